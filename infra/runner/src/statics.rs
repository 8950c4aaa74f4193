//! The static pages under `web/`: `index.html` for a folder, the content
//! type from the extension, no directory listing, and no path that leaves
//! the folder (`..`, encoded or not, hidden files and symlinks out of it
//! are all refused).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use kluis_http::{ApiError, RouteTemplate, response};

/// The content type of a file name, by extension.
pub fn content_type(path: &Path) -> &'static str {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match extension.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// One path segment, percent-decoded; `None` for anything that could name
/// something outside the folder or hidden in it.
fn segment(raw: &str) -> Option<String> {
    // `percent-encoding` passes a malformed escape through as text; a
    // request that sends one is refused instead of guessed at.
    let well_formed = raw
        .split('%')
        .skip(1)
        .all(|rest| rest.len() >= 2 && rest.as_bytes()[..2].iter().all(u8::is_ascii_hexdigit));
    if !well_formed {
        return None;
    }
    let text = percent_encoding::percent_decode_str(raw).decode_utf8().ok()?;
    let safe = !text.starts_with('.') && !text.contains(['/', '\\', '\0', ':']);
    safe.then(|| text.into_owned())
}

/// The file `path` names under `root`, or `None` when the path is refused.
fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let mut file = root.to_path_buf();
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        file.push(segment(raw)?);
    }
    Some(file)
}

/// Answers a request for a static file under `root`.
pub async fn serve(root: &Path, request: &Request<Bytes>) -> Response<Bytes> {
    let mut answer = answer(root, request).await;
    answer.extensions_mut().insert(RouteTemplate("(static)"));
    answer
}

async fn answer(root: &Path, request: &Request<Bytes>) -> Response<Bytes> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut refused = response::error(&ApiError::MethodNotAllowed);
        refused
            .headers_mut()
            .insert(http::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return refused;
    }
    let Some(mut file) = resolve(root, request.uri().path()) else {
        return not_found();
    };
    if tokio::fs::metadata(&file).await.is_ok_and(|m| m.is_dir()) {
        file.push("index.html");
    }
    // A symlink inside the folder must not lead out of it.
    let (Ok(real_root), Ok(real_file)) = (
        tokio::fs::canonicalize(root).await,
        tokio::fs::canonicalize(&file).await,
    ) else {
        return not_found();
    };
    if !real_file.starts_with(&real_root) {
        return not_found();
    }
    match tokio::fs::read(&real_file).await {
        Ok(bytes) => {
            let mut ok = Response::new(Bytes::from(bytes));
            let headers = ok.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type(&real_file)));
            // Pages change while someone develops them: always revalidate.
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            ok
        }
        Err(_) => not_found(),
    }
}

fn not_found() -> Response<Bytes> {
    let mut answer = response::error(&ApiError::NotFound);
    *answer.status_mut() = StatusCode::NOT_FOUND;
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_could_leave_the_folder_are_refused() {
        let root = Path::new("/srv/web");
        for bad in [
            "/../Cargo.toml",
            "/%2e%2e/Cargo.toml",
            "/%2E%2E/x",
            "/a/%2f..%2fb",
            "/a/..%5cb",
            "/.git/config",
            "/%00",
            "/%zz",
            "/a%2",
            "/%ff",
            "/C:/x",
        ] {
            assert_eq!(resolve(root, bad), None, "{bad}");
        }
        assert_eq!(resolve(root, "/"), Some(PathBuf::from("/srv/web")));
        assert_eq!(
            resolve(root, "/pkg/a%20b.js"),
            Some(PathBuf::from("/srv/web/pkg/a b.js"))
        );
        assert_eq!(
            resolve(root, "/%E2%82%AC.txt"),
            Some(PathBuf::from("/srv/web/€.txt"))
        );
    }

    #[test]
    fn content_types_cover_the_pages_assets() {
        assert_eq!(content_type(Path::new("x.wasm")), "application/wasm");
        assert_eq!(content_type(Path::new("x.js")), "text/javascript; charset=utf-8");
        assert_eq!(content_type(Path::new("x.mjs")), "text/javascript; charset=utf-8");
        assert_eq!(content_type(Path::new("index.html")), "text/html; charset=utf-8");
        assert_eq!(content_type(Path::new("noext")), "application/octet-stream");
    }
}
