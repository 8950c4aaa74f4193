//! `main` of every function binary. The service is built once, before the
//! first request (on Lambda: once per execution environment). A function
//! that cannot start says why on stderr and exits non-zero, so a broken
//! deployment fails at once instead of answering 500 to every request.
//!
//! In plain-HTTP mode (no `AWS_LAMBDA_RUNTIME_API`) every function also
//! answers `GET /health` (outside `/api`, so the gateway never routes it):
//! container health checks and the cold-start benchmark use it.

use std::process::ExitCode;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use kluis_http::config::Config;
use kluis_http::{Router, lambda, response};

use crate::Shared;
use crate::aws::{self, AwsPorts};

/// The route every function binary adds in plain-HTTP mode.
pub const HEALTH_PATH: &str = "/health";

async fn health(_: Request<Bytes>) -> Response<Bytes> {
    response::json(StatusCode::OK, &serde_json::json!({ "status": "ok" }))
}

/// `routes` with `GET /health` in front.
pub fn with_health(routes: Router) -> Router {
    Router::new()
        .route(Method::GET, HEALTH_PATH, health)
        .merge(routes)
}

async fn start(name: &str) -> Option<Shared<AwsPorts>> {
    kluis_http::log::init();
    match aws::service_from_env(&Config::from_process()).await {
        Ok(service) => Some(service),
        Err(error) => {
            eprintln!("{name}: {error}");
            tracing::error!(function = name, %error, "cannot start");
            None
        }
    }
}

/// `main` of an HTTP function: builds the service over the AWS adapters
/// from the environment and serves the routes `routes` makes of it.
pub async fn serve_http(name: &str, routes: impl FnOnce(&Shared<AwsPorts>) -> Router) -> ExitCode {
    let Some(service) = start(name).await else {
        return ExitCode::FAILURE;
    };
    match kluis_http::run_api(with_health(routes(&service))).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{name}: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `main` of a scheduled function: on Lambda each event (an EventBridge
/// schedule; its content is ignored) runs `job` once; elsewhere
/// `POST /run` does, so a cron job or a person can trigger it.
pub async fn serve_scheduled<J, F, T, E>(name: &'static str, job: J) -> ExitCode
where
    J: Fn(Shared<AwsPorts>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: serde::Serialize + Send + 'static,
    E: Into<kluis_http::ApiError> + std::fmt::Display + Send + 'static,
{
    let Some(service) = start(name).await else {
        return ExitCode::FAILURE;
    };
    if lambda::on_lambda() {
        use lambda_http::lambda_runtime::{LambdaEvent, run, service_fn};
        let handler = service_fn(move |_: LambdaEvent<serde_json::Value>| {
            let (job, service) = (job.clone(), service.clone());
            async move {
                let report = job(service).await.map_err(|e| e.to_string())?;
                serde_json::to_value(report).map_err(|e| lambda_http::Error::from(e.to_string()))
            }
        });
        return match run(handler).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("{name}: {error}");
                ExitCode::FAILURE
            }
        };
    }
    let routes = Router::new().route(Method::POST, "/run", move |_: Request<Bytes>| {
        let (job, service) = (job.clone(), service.clone());
        async move {
            match job(service).await {
                Ok(report) => response::json(StatusCode::OK, &report),
                Err(error) => {
                    tracing::warn!(%error, "scheduled run failed");
                    response::error(&error.into())
                }
            }
        }
    });
    match kluis_http::run_api(with_health(routes)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{name}: {error}");
            ExitCode::FAILURE
        }
    }
}
