//! Build once, bind anywhere: [`App::build`] binds the listener (port 0 in tests and benches)
//! and reports the address, then [`App::run`] serves until Ctrl-C / SIGTERM.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use ferry_store::Store;
use tokio::net::TcpListener;

use tokio_util::sync::CancellationToken;

use crate::api;
use crate::clock::Clock;
use crate::config::ServeArgs;
use crate::enrich::Enricher;
use crate::jobs::Worker;
use crate::links::LinkSigner;

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
    /// Per download link: a leaked link cannot be hammered.
    pub link_rate_limit: Arc<crate::api::rate_limit::ApiRateLimit>,
    /// Per client address on the public privacy pages (the verification link).
    pub privacy_rate_limit: Arc<crate::api::rate_limit::ApiRateLimit>,
    /// Time for link expiry and job leases; tests move it by hand.
    pub clock: Arc<dyn Clock>,
    /// The export id of every download once it is in the download log.
    pub downloads: tokio::sync::broadcast::Sender<String>,
    /// The smallest bulk `part_size` the API takes (`ServeArgs::min_part_size`).
    pub min_part_size: u64,
    /// The public half of the key that signs audit checkpoints (the server never signs).
    pub audit_key: ed25519_dalek::VerifyingKey,
    /// Seals destination credentials and alert-webhook secrets.
    pub sealer: crate::sealing::Sealer,
}

pub struct App {
    listener: TcpListener,
    router: axum::Router,
    /// The job worker this app runs beside its HTTP server (tests may step it instead).
    pub worker: Worker,
    /// Announces each download once it is logged.
    pub downloads: tokio::sync::broadcast::Sender<String>,
    pub addr: SocketAddr,
    pub base_url: String,
}

impl App {
    /// `data_dir` holds the artifact store, the link-signing secret and the audit signing key.
    pub async fn build(
        store: Arc<dyn Store>,
        args: &ServeArgs,
        data_dir: &Path,
    ) -> anyhow::Result<App> {
        Self::build_with_clock(store, args, data_dir, crate::clock::system()).await
    }

    pub async fn build_with_clock(
        store: Arc<dyn Store>,
        args: &ServeArgs,
        data_dir: &Path,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<App> {
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let public_url = match &args.public_url {
            Some(url) => crate::config::public_url(url)?,
            None => base_url.clone(),
        };
        let mut worker = Worker::new(store.clone(), data_dir, clock.clone());
        worker.compact_every = (args.segment_interval > 0)
            .then(|| std::time::Duration::from_secs(args.segment_interval));
        worker.settings.slots = args.worker_slots.max(1);
        worker.settings.client_address_retention =
            crate::jobs::retention_days(args.client_address_retention_days);
        worker.settings.max_subject_visitors = args.max_subject_visitors;
        let sealer = crate::sealing::Sealer::load(data_dir)?;
        worker.sealer = Some(sealer.clone());
        let links = Arc::new(LinkSigner::load(data_dir)?);
        worker.mail =
            crate::jobs::MailSetup::from_args(&args.mail, Some(&public_url), links.clone())?;
        clear_orphans(&worker).await;
        let state = AppState {
            sealer,
            store,
            enricher: Arc::new(Enricher::from_args(args)?),
            public_url: public_url.into(),
            links,
            worker: worker.clone(),
            rate_limit: Arc::new(crate::api::rate_limit::ApiRateLimit::new(
                args.api_rate_limit,
            )),
            link_rate_limit: Arc::new(crate::api::rate_limit::ApiRateLimit::for_links(
                args.link_rate_limit,
            )),
            privacy_rate_limit: Arc::new(crate::api::rate_limit::ApiRateLimit::for_clients(
                crate::api::privacy_verify::PRIVACY_RATE_PER_MINUTE,
            )),
            clock,
            downloads: tokio::sync::broadcast::channel(64).0,
            min_part_size: args.min_part_size,
            audit_key: crate::audit_key::load_or_create(data_dir)?.verifying_key(),
        };
        Ok(App {
            downloads: state.downloads.clone(),
            listener,
            worker,
            router: api::router(state, args.body_limit, args.load_limits()),
            addr,
            base_url,
        })
    }

    /// Serves, with a job worker in the same process, until the process is asked to stop.
    /// At the signal both stop at once: HTTP takes no new connections and finishes the open
    /// ones, the worker stops claiming and gives running jobs its grace period.
    pub async fn run(self) -> anyhow::Result<()> {
        let stop = CancellationToken::new();
        let worker = tokio::spawn(self.worker.clone().run(stop.clone()));
        let signalled = stop.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            signalled.cancel();
        });
        let served = self.serve_until(stop.clone().cancelled_owned()).await;
        stop.cancel();
        let _ = worker.await;
        served
    }

    /// Serves HTTP only, until `until` completes; the caller runs (or steps) the worker.
    pub async fn serve_until(
        self,
        until: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(addr = %self.addr, "serving");
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(until)
        .await
        .context("the HTTP server stopped")
    }
}

/// At startup, before any job runs here: export files and scratch directories that a crash
/// or kill left, and that no running job (of another process) owns, go.
pub async fn clear_orphans(worker: &Worker) {
    match worker.clear_orphans().await {
        Ok(report) if report != crate::jobs::SweepReport::default() => tracing::info!(
            leftovers = report.leftovers,
            orphans = report.orphans,
            scratch = report.scratch,
            "cleared export files left by an earlier run"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot clear export files left by an earlier run"),
    }
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
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
