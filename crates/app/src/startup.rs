//! Build once, bind anywhere: [`App::build`] binds the listener (port 0 in tests and benches)
//! and reports the address, then [`App::run`] serves until Ctrl-C / SIGTERM.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use ferry_store::Store;
use tokio::net::TcpListener;

use crate::api;
use crate::config::ServeArgs;
use crate::enrich::Enricher;
use crate::links::LinkSigner;
use crate::segments::SegmentFiles;
use crate::worker::Worker;

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub enricher: Arc<Enricher>,
    /// The base URL users reach Ferry at, without a trailing slash.
    pub public_url: Arc<str>,
    pub links: Arc<LinkSigner>,
    /// Runs export jobs; handlers wake it when they queue one.
    pub worker: Worker,
    pub rate_limit: Arc<crate::api::rate_limit::ApiRateLimit>,
}

pub struct App {
    listener: TcpListener,
    router: axum::Router,
    worker: Worker,
    pub addr: SocketAddr,
    pub base_url: String,
}

impl App {
    /// `data_dir` holds the artifact store and the link-signing secret.
    pub async fn build(
        store: Arc<dyn Store>,
        args: &ServeArgs,
        data_dir: &Path,
    ) -> anyhow::Result<App> {
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let public_url = args
            .public_url
            .clone()
            .unwrap_or_else(|| base_url.clone())
            .trim_end_matches('/')
            .to_string();
        let worker = Worker {
            store: store.clone(),
            artifacts: data_dir.join("artifacts"),
            wake: Arc::new(tokio::sync::Notify::new()),
            segments: Some(SegmentFiles::new(data_dir)),
            compact_every: (args.segment_interval > 0)
                .then(|| std::time::Duration::from_secs(args.segment_interval)),
        };
        let state = AppState {
            store,
            enricher: Arc::new(Enricher::from_args(args)?),
            public_url: public_url.into(),
            links: Arc::new(LinkSigner::load(data_dir)?),
            worker: worker.clone(),
            rate_limit: Arc::new(crate::api::rate_limit::ApiRateLimit::new(
                args.api_rate_limit,
            )),
        };
        Ok(App {
            listener,
            worker,
            router: api::router(state, args.body_limit),
            addr,
            base_url,
        })
    }

    /// Serves, with an export worker in the same process, until the process is asked to stop.
    pub async fn run(self) -> anyhow::Result<()> {
        tracing::info!(addr = %self.addr, "serving");
        tokio::spawn(self.worker.clone().run());
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server stopped")
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
