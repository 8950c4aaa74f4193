//! What the embedded adapters' integration tests share: a disk store
//! served over plain HTTP on a loopback port, as the runner serves it.

use std::convert::Infallible;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use kluis_embedded::{DiskObjectStore, SigningKey};

/// A disk store under `root`, mounted at `/objects` on a loopback port.
pub async fn served_disk_store(root: &std::path::Path) -> DiskObjectStore {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("a bound address");
    let store = DiskObjectStore::open(
        root,
        &format!("http://{address}/objects"),
        SigningKey::from_bytes([9; 32]),
    )
    .await
    .expect("open the disk store");
    let served = store.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let store = served.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let store = store.clone();
                    async move { Ok::<_, Infallible>(store.serve(request).await) }
                });
                // A client hanging up mid-request is not the test's concern.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    store
}
