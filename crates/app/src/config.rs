//! Settings shared by every command that opens the store or serves HTTP. Each flag has a
//! `FERRY_*` environment variable; flags win.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// Ten minutes between export segment passes.
pub const DEFAULT_SEGMENT_INTERVAL: u64 = 600;

/// 16 MiB: DESIGN.md's default request body limit.
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory for the SQLite database and artifacts.
    #[arg(
        long,
        env = "FERRY_DATA_DIR",
        default_value = "./ferry-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Database URL; empty means SQLite in the data directory.
    #[arg(
        long = "database",
        env = "FERRY_DATABASE_URL",
        default_value = "",
        global = true,
        hide_default_value = true
    )]
    pub database_url: String,
}

/// The mail relay, for every command that runs jobs (`serve`, `demo`, `worker`): `email`
/// deliveries and alert mails go through it.
#[derive(Debug, Clone, Args)]
pub struct MailArgs {
    /// The relay `email` destinations and alerts send through: smtp://user:pass@host:port
    /// (?tls=required for STARTTLS, smtps:// for TLS from the start).
    #[arg(long, env = "FERRY_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The From address of those mails.
    #[arg(long, env = "FERRY_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// A PEM file of the CA that signed the relay's TLS certificate, trusted instead of the
    /// public roots (a relay with a private certificate).
    #[arg(long, env = "FERRY_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
    /// An `email` delivery attaches the export when its files are under this many bytes.
    #[arg(long, env = "FERRY_MAIL_ATTACH_LIMIT", default_value_t = ferry_deliver::email::DEFAULT_ATTACH_LIMIT)]
    pub mail_attach_limit: u64,
}

impl MailArgs {
    /// No relay: `email` deliveries fail saying how to configure one.
    pub fn none() -> Self {
        MailArgs {
            smtp_url: None,
            smtp_from: None,
            smtp_ca_file: None,
            mail_attach_limit: ferry_deliver::email::DEFAULT_ATTACH_LIMIT,
        }
    }

    /// The relay, checked as far as it can be without connecting (`None`: not configured). A
    /// half-configured relay is an error at start-up, not a failed mail days later.
    pub fn relay(&self) -> anyhow::Result<Option<ferry_deliver::smtp::SmtpRelay>> {
        let (url, from) = match (&self.smtp_url, &self.smtp_from) {
            (None, None) if self.smtp_ca_file.is_none() => return Ok(None),
            (Some(url), Some(from)) => (url, from),
            (None, _) => anyhow::bail!(
                "the mail relay is half configured: set --smtp-url (FERRY_SMTP_URL) too, like \
                 smtp://user:pass@host:587?tls=required"
            ),
            (Some(_), None) => anyhow::bail!(
                "the mail relay is half configured: set --smtp-from (FERRY_SMTP_FROM) to the \
                 sender's address too"
            ),
        };
        let mut relay = ferry_deliver::smtp::SmtpRelay::new(url.clone(), from.clone());
        if let Some(file) = &self.smtp_ca_file {
            let pem = std::fs::read(file).map_err(|e| {
                anyhow::anyhow!("cannot read --smtp-ca-file {}: {e}", file.display())
            })?;
            relay.ca_pem = Some(std::sync::Arc::new(pem));
        }
        relay.check().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Some(relay))
    }
}

/// A `--public-url`, checked: http(s), without a trailing slash.
pub fn public_url(url: &str) -> anyhow::Result<String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        anyhow::bail!(
            "--public-url (FERRY_PUBLIC_URL) must be the http:// or https:// URL users reach \
             Ferry at, like https://ferry.example.com"
        );
    }
    Ok(url.trim_end_matches('/').to_string())
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, env = "FERRY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The URL users reach Ferry at (used in links); defaults to http://LISTEN.
    #[arg(long, env = "FERRY_PUBLIC_URL")]
    pub public_url: Option<String>,
    #[command(flatten)]
    pub mail: MailArgs,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "FERRY_BODY_LIMIT", default_value_t = DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// A MaxMind-format country database (GeoLite2-Country.mmdb) for tracker hits.
    #[arg(long, env = "FERRY_GEOIP_DB")]
    pub geoip_db: Option<PathBuf>,
    /// A header set by a trusted proxy that carries the visitor's country, e.g. CF-IPCountry.
    #[arg(long, env = "FERRY_COUNTRY_HEADER")]
    pub country_header: Option<String>,
    /// A header set by a trusted proxy that carries the client address, e.g. X-Forwarded-For.
    /// Without it, the socket's peer address is used for GeoIP.
    #[arg(long, env = "FERRY_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,
    /// Requests a minute one API key may send to the authenticated API; 0 turns it off.
    #[arg(long, env = "FERRY_API_RATE_LIMIT", default_value_t = DEFAULT_API_RATE_LIMIT)]
    pub api_rate_limit: u32,
    /// Seconds between passes that build export segments of closed days (bulk exports copy
    /// them instead of reading those days again); 0 builds none.
    #[arg(long, env = "FERRY_SEGMENT_INTERVAL", default_value_t = DEFAULT_SEGMENT_INTERVAL)]
    pub segment_interval: u64,
    /// Jobs the worker runs at once. Bulk exports never take the last free slot, so a
    /// person's export never waits behind one.
    #[arg(long, env = "FERRY_WORKER_SLOTS", default_value_t = crate::jobs::DEFAULT_SLOTS)]
    pub worker_slots: usize,
    /// Days the download log keeps each client's address; 0 keeps them for good.
    #[arg(long, env = "FERRY_CLIENT_ADDRESS_RETENTION_DAYS", default_value_t = crate::jobs::DEFAULT_CLIENT_ADDRESS_RETENTION_DAYS)]
    pub client_address_retention_days: u64,
    /// Requests handled at once; over it a request gets `503 overloaded` at once. 0: no limit.
    #[arg(long, env = "FERRY_MAX_CONCURRENT_REQUESTS", default_value_t = crate::api::load::DEFAULT_MAX_CONCURRENT_REQUESTS)]
    pub max_concurrent_requests: usize,
    /// Seconds an API or tracker request may take (not an ingest upload or a download); 0: no
    /// limit.
    #[arg(long, env = "FERRY_REQUEST_TIMEOUT", default_value_t = crate::api::load::DEFAULT_REQUEST_TIMEOUT_SECS)]
    pub request_timeout: u64,
    /// Requests a minute one download link may get (a resumed or segmented download makes
    /// several); 0 turns it off.
    #[arg(long, env = "FERRY_LINK_RATE_LIMIT", default_value_t = DEFAULT_LINK_RATE_LIMIT)]
    pub link_rate_limit: u32,
    /// The most visitors one person's export reads; a person linked to more fails with
    /// `too_many_visitors`.
    #[arg(long, env = "FERRY_MAX_SUBJECT_VISITORS", default_value_t = crate::jobs::DEFAULT_MAX_SUBJECT_VISITORS)]
    pub max_subject_visitors: usize,
    /// The smallest bulk `part_size` the API takes; not a flag: only tests lower it from
    /// [`crate::services::exports::MIN_PART_SIZE`], to split a few rows into several parts.
    #[arg(skip = crate::services::exports::MIN_PART_SIZE)]
    pub min_part_size: u64,
}

/// 1,200 requests a minute per key: far above a polling script, well below a flood.
pub const DEFAULT_API_RATE_LIMIT: u32 = 1_200;

/// 60 requests a minute per download link: room for a download manager's parallel ranges and
/// resumes, nothing like a loop fetching the same file.
pub const DEFAULT_LINK_RATE_LIMIT: u32 = 60;

impl ServeArgs {
    /// Settings for tests and benchmarks: loopback, a free port, defaults elsewhere.
    pub fn loopback() -> Self {
        ServeArgs {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            mail: MailArgs::none(),
            body_limit: DEFAULT_BODY_LIMIT,
            geoip_db: None,
            country_header: None,
            client_ip_header: None,
            api_rate_limit: DEFAULT_API_RATE_LIMIT,
            segment_interval: DEFAULT_SEGMENT_INTERVAL,
            worker_slots: crate::jobs::DEFAULT_SLOTS,
            client_address_retention_days: crate::jobs::DEFAULT_CLIENT_ADDRESS_RETENTION_DAYS,
            max_concurrent_requests: crate::api::load::DEFAULT_MAX_CONCURRENT_REQUESTS,
            request_timeout: crate::api::load::DEFAULT_REQUEST_TIMEOUT_SECS,
            min_part_size: crate::services::exports::MIN_PART_SIZE,
            link_rate_limit: DEFAULT_LINK_RATE_LIMIT,
            max_subject_visitors: crate::jobs::DEFAULT_MAX_SUBJECT_VISITORS,
        }
    }

    pub fn load_limits(&self) -> crate::api::load::LoadLimits {
        crate::api::load::LoadLimits {
            max_concurrent_requests: self.max_concurrent_requests,
            request_timeout: (self.request_timeout > 0)
                .then(|| std::time::Duration::from_secs(self.request_timeout)),
        }
    }
}
