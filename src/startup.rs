//! Building the application: keys, database, workspace, catalogue and HTTP server. The tests
//! build exactly this.

use actix_web::dev::Server;
use actix_web::{App, HttpServer};
use anyhow::Context;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use crate::config::Settings;
use crate::crypto::Keyring;
use crate::db::catalog::Catalog;
use crate::db::{Db, DbUrl};
use crate::domain::ErrorCode;
use crate::mail::delivery::{MailTransport, deliver_due};
use crate::services::person_cache::PersonCache;
use crate::services::remote_witness::RemoteWitness;
use crate::services::workspace::{self, WorkspaceFile};
use crate::web::error::{AppError, PageError};
use crate::web::{AppState, CatalogHandle, RateLimits, locale_of, log_request, routes, security_headers};

mod tree_heads;
use tree_heads::{sign_tree_head, sign_tree_heads};

/// How often a running server looks whether the catalogue changed (`assent apply` or the console
/// of another server): a stamp compared in memory, then, only if the database changed at all,
/// one single-row read of the catalogue's version; the catalogue is reloaded only when that moved.
const CATALOG_CHECK: Duration = Duration::from_millis(250);

/// The preference center's kept sessions and pages (`services::person_cache`): how long one is
/// kept at most, how many, and how often the changed and old ones are dropped (the page's data is
/// decrypted: it does not outstay a change to its person, an erasure above all, by more than that).
const ME_KEPT_FOR: Duration = Duration::from_secs(300);
const ME_SESSIONS_MAX: usize = 20_000;
const ME_PAGES_MAX: usize = 2_000;
const ME_SWEEP: Duration = Duration::from_secs(10);

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    transport: Arc<MailTransport>,
    changes: crate::db::changes::Changes,
    witness: Option<Arc<RemoteWitness>>,
    /// The webhook endpoints the workspace file declares.
    webhooks: Vec<crate::services::webhooks::Endpoint>,
    /// Held while serving: `assent restore` refuses meanwhile.
    _serving: crate::db::ServeLock,
}

impl Application {
    /// Opens (and migrates) the database, applies the workspace file if there is one, and binds.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let settings = Arc::new(settings);
        let prepared = {
            let settings = settings.clone();
            tokio::task::spawn_blocking(move || prepare(&settings)).await.context("start-up task failed")??
        };
        let (db, keyring, catalog, serving) = prepared;
        let keyring = Arc::new(keyring);
        let submissions = crate::services::recorder::Recorder::start(&db, keyring.clone())
            .context("cannot start the submission recorder")?;
        let changes = crate::db::changes::Changes::watch(&db).context("cannot watch the database for changes")?;
        let access = crate::services::access::AccessLog::start(db.writer.clone())
            .context("cannot start the access-record writer")?;
        let state = AppState {
            limits: Arc::new(RateLimits::for_database(&settings, &db, &keyring)),
            submissions,
            api_keys: Arc::default(),
            consents: Arc::new(crate::services::lookup::ConsentCache::new(changes.clone())),
            me_sessions: Arc::new(PersonCache::new(changes.clone(), ME_KEPT_FOR, ME_SESSIONS_MAX)),
            me_pages: Arc::new(PersonCache::new(changes.clone(), ME_KEPT_FOR, ME_PAGES_MAX)),
            db,
            keyring,
            mail: settings.mail_context().for_business(catalog.controller.as_ref()),
            catalog: CatalogHandle::new(catalog),
            mail_queued: Arc::new(tokio::sync::Notify::new()),
            settings: settings.clone(),
            access,
        };
        let transport = MailTransport::new(settings.smtp_url.as_deref(), &settings.data_dir)?;
        let witness = settings.witness_url.as_deref().map(RemoteWitness::new).transpose()?.map(Arc::new);
        let listener =
            TcpListener::bind(&settings.bind).with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let webhooks = crate::services::webhooks::declared(&settings.config)?;
        if !webhooks.is_empty() {
            let (writer, declared) = (state.db.writer.clone(), webhooks.clone());
            tokio::task::spawn_blocking(move || crate::services::webhooks::declare(&writer, &declared))
                .await
                .context("start-up task failed")?
                .context("cannot record the webhook endpoints")?;
        }
        let server = serve(listener, state.clone())?;
        Ok(Self { port, server, state, transport: Arc::new(transport), changes, witness, webhooks, _serving: serving })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Runs until the server stops. On Ctrl-C or SIGTERM it stops accepting connections,
    /// lets requests in flight finish (up to `ASSENT_SHUTDOWN_TIMEOUT`), then waits for the
    /// writer to commit what is queued before returning.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let refresher = tokio::spawn(refresh_catalog(self.state.clone(), self.changes.clone()));
        let mailer = tokio::spawn(deliver_mail(self.state.clone(), self.transport.clone()));
        let pruning = tokio::spawn(prune_access_records(self.state.clone()));
        let retention = tokio::spawn(run_retention(self.state.clone()));
        let heads = tokio::spawn(sign_tree_heads(self.state.clone(), self.witness.clone()));
        let mail_files = tokio::spawn(crate::mail::delivery::expire_files(
            self.transport.clone(),
            self.state.settings.mail_file_retention,
        ));
        let webhooks = tokio::spawn(deliver_webhooks(self.state.clone(), self.webhooks.clone()));
        let doctor = tokio::spawn(crate::jobs::doctor::daily(self.state.db.clone(), self.state.settings.clone()));
        let limiters = tokio::spawn(crate::web::limits::keep_small(self.state.limits.clone()));
        let kept = tokio::spawn(sweep_person_caches(self.state.clone()));
        let notices = tokio::spawn(crate::jobs::result_notices::follow(crate::jobs::result_notices::Follower {
            db: self.state.db.clone(),
            keyring: self.state.keyring.clone(),
            catalog: {
                let handle = self.state.catalog.clone();
                Box::new(move || handle.current())
            },
            mail: self.state.mail.clone(),
            mail_queued: self.state.mail_queued.clone(),
        }));
        let result = self.server.await;
        notices.abort();
        kept.abort();
        limiters.abort();
        doctor.abort();
        webhooks.abort();
        pruning.abort();
        mail_files.abort();
        refresher.abort();
        mailer.abort();
        retention.abort();
        heads.abort();
        // Access records still queued are written before the writer drains.
        self.state.access.flush().await;
        self.state.db.writer.drain().await;
        // The last head covers every event this process wrote (read afresh: the job's edge went
        // with it).
        sign_tree_head(&self.state, self.witness.as_deref(), Default::default()).await;
        tracing::info!("stopped");
        result
    }
}

/// Delivers webhooks to the endpoints the workspace file declares and those declared in the
/// console or through the API (unless `ASSENT_WEBHOOK_DELIVERY=0`).
async fn deliver_webhooks(state: AppState, endpoints: Vec<crate::services::webhooks::Endpoint>) {
    if !state.settings.webhook_delivery {
        tracing::info!("webhook delivery is off in this process (ASSENT_WEBHOOK_DELIVERY=0)");
        return;
    }
    let dispatcher = crate::services::webhooks::Dispatcher {
        db: state.db.clone(),
        keyring: state.keyring.clone(),
        endpoints,
        client: reqwest::Client::new(),
        allow_private: state.settings.webhook_allow_private,
        speedup: state.settings.webhook_retry_speedup,
        notice: crate::services::webhooks::OwnerNotice {
            mail: state.mail.clone(),
            locale: state.catalog.current().default_locale(),
        },
        mail_queued: state.mail_queued.clone(),
    };
    dispatcher.run_when_alone().await;
}

fn prepare(settings: &Settings) -> anyhow::Result<(Db, Keyring, Catalog, crate::db::ServeLock)> {
    let masters = settings.master_keys()?;
    let url = DbUrl::parse(&settings.database_url)?;
    let Some(serving) = crate::db::ServeLock::shared(&url).context("cannot lock the database")? else {
        anyhow::bail!("assent restore is running on this database; start the server once it has finished");
    };
    let db = settings.open_db(settings.pool_size).context("cannot open the database")?;
    replay_erasures(settings, &db)?;
    let mut conn = db.pool.get().context("cannot get a database connection")?;
    let keyring = crate::services::keyring::load(&mut conn, masters).context("cannot load the keys")?;
    crate::services::reseal::legacy_ciphertexts(&mut conn, &keyring).context("cannot re-seal old ciphertexts")?;
    if settings.config.exists() {
        apply_if_changed(&mut conn, &settings.config)?;
    } else {
        tracing::warn!(path = %settings.config.display(), "no workspace file; serving what the database holds");
    }
    let catalog = Catalog::load(&mut conn).context("cannot load the catalogue")?;
    Ok((db, keyring, catalog, serving))
}

/// Erases again anyone the erasure journal holds whom the database knows alive (a backup put
/// back), before anything is served.
fn replay_erasures(settings: &Settings, db: &Db) -> anyhow::Result<()> {
    let journal = settings.erasure_journal();
    let replayed = crate::services::restore::replay_erasures(db, &journal)
        .with_context(|| format!("cannot replay the erasure journal {}", journal.path().display()))?;
    if replayed.erased_again > 0 {
        tracing::warn!(
            people = replayed.erased_again,
            "people erased after this database's backup were erased again (erasure journal); run `assent restore --reconcile` to record the restore in the witness"
        );
    }
    if replayed.caught_up > 0 {
        tracing::info!(people = replayed.caught_up, "erasures added to the erasure journal from the database");
    }
    if !replayed.damaged_lines.is_empty() {
        tracing::warn!(lines = ?replayed.damaged_lines, "erasure journal lines could not be read and were skipped");
    }
    Ok(())
}

/// Applies the workspace file if its content differs from the file applied at the last start,
/// so that a restart does not revert what owners changed in the console since. (`assent apply`
/// always applies.)
fn apply_if_changed(conn: &mut crate::db::DbConnection, path: &std::path::Path) -> anyhow::Result<()> {
    use crate::db::builder::{applied_file_hash, set_applied_file_hash};
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let hash = crate::crypto::sha256_hex(&bytes);
    if applied_file_hash(conn)?.as_deref() == Some(hash.as_str()) {
        tracing::info!(path = %path.display(), "workspace file unchanged since it was last applied; not re-applied");
        return Ok(());
    }
    let file = WorkspaceFile::read(path)?;
    for advice in file.advice() {
        tracing::warn!(path = %path.display(), "{advice}");
    }
    let report = workspace::apply(conn, &file)?;
    for (purpose, version) in &report.policy_versions {
        tracing::info!(purpose, version, "published policy version");
    }
    for (form, version) in &report.form_versions {
        tracing::info!(form, version, "published form version");
    }
    set_applied_file_hash(conn, &hash, chrono::Utc::now().naive_utc())?;
    Ok(())
}

fn serve(listener: TcpListener, state: AppState) -> anyhow::Result<Server> {
    let workers = state.settings.workers;
    let hsts = state.settings.is_https();
    let shutdown_timeout = state.settings.shutdown_timeout.as_secs().max(1);
    let data = actix_web::web::Data::new(state);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .wrap_fn(crate::web::edges::http_edges)
            .wrap(security_headers(hsts))
            .wrap_fn(log_request)
            .configure(routes)
            .default_service(actix_web::web::to(not_found))
    })
    .backlog(4096)
    .shutdown_timeout(shutdown_timeout)
    .listen(listener)?;
    if let Some(n) = workers {
        server = server.workers(n.max(1));
    }
    Ok(server.run())
}

async fn not_found(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, PageError> {
    Err(PageError::new(AppError::NotFound(ErrorCode::NotFound), locale_of(&req)))
}

/// Keeps the catalogue this server serves and records against the one in the database: every
/// [`CATALOG_CHECK`], if the database changed since the last look (or changes cannot be followed
/// right now), reads the catalogue's version and reloads the catalogue when it moved. The stamp is taken before the version is read, so a change committed after that read moves
/// the stamp and is looked at next time; the first look always reloads (the catalogue loaded at
/// start-up may predate a change made meanwhile).
async fn refresh_catalog(state: AppState, changes: crate::db::changes::Changes) {
    let (mut seen_stamp, mut seen_version) = (None, None);
    loop {
        tokio::time::sleep(CATALOG_CHECK).await;
        let stamp = changes.stamp();
        if stamp.is_some() && stamp == seen_stamp {
            continue;
        }
        let pool = state.db.pool.clone();
        let known = seen_version;
        let looked = tokio::task::spawn_blocking(move || -> anyhow::Result<(i64, Option<Catalog>)> {
            let mut conn = pool.get()?;
            let version = crate::db::catalog::version(&mut conn)?;
            let reloaded = if known == Some(version) { None } else { Some(Catalog::load(&mut conn)?) };
            Ok((version, reloaded))
        })
        .await;
        match looked {
            Ok(Ok((version, reloaded))) => {
                if let Some(catalog) = reloaded {
                    state.catalog.replace(catalog);
                    tracing::debug!(version, "catalogue reloaded");
                }
                (seen_stamp, seen_version) = (stamp, Some(version));
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "could not refresh the catalogue"),
            Err(e) => tracing::warn!(error = %e, "catalogue refresh task failed"),
        }
    }
}

/// Delivers queued mail when woken (something was queued) or every few seconds (retries, and
/// mail queued by other processes).
async fn deliver_mail(state: AppState, transport: Arc<MailTransport>) {
    let owner = uuid::Uuid::new_v4().to_string();
    loop {
        let (db, keyring, transport, owner) =
            (state.db.clone(), state.keyring.clone(), transport.clone(), owner.clone());
        match tokio::task::spawn_blocking(move || deliver_due(&db, &keyring, &transport, &owner)).await {
            Ok(Ok(n)) if n > 0 => tracing::info!(delivered = n, "mail delivered"),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "mail delivery run failed"),
            Err(e) => tracing::warn!(error = %e, "mail delivery task failed"),
        }
        tokio::select! {
            () = state.mail_queued.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
    }
}

/// Prunes access records past `ASSENT_ACCESS_RETENTION` every `ASSENT_RETENTION_INTERVAL`, the
/// first time one interval after start (nothing is two years old at a start that matters), and
/// forgets the checked import sheets nobody imported within their day.
async fn prune_access_records(state: AppState) {
    let every = state.settings.retention_interval;
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        interval.tick().await;
        let (writer, keep) = (state.db.writer.clone(), state.settings.access_retention);
        let pruned =
            tokio::task::spawn_blocking(move || crate::services::access::prune(&writer, keep, chrono::Utc::now()))
                .await;
        match pruned {
            Ok(Ok(0)) => {}
            Ok(Ok(pruned)) => tracing::info!(pruned, "access records past retention pruned"),
            Ok(Err(e)) => tracing::warn!(error = %e, "could not prune access records"),
            Err(e) => tracing::warn!(error = %e, "access record pruning task failed"),
        }
        let writer = state.db.writer.clone();
        match tokio::task::spawn_blocking(move || crate::services::import::staged::forget_expired(&writer)).await {
            Ok(Ok((0, 0))) => {}
            Ok(Ok((forgotten, stopped))) => {
                tracing::info!(
                    forgotten,
                    stopped,
                    "import sheets past their day forgotten, stopped runs recorded as failed"
                );
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "could not forget checked import sheets"),
            Err(e) => tracing::warn!(error = %e, "import sheet pruning task failed"),
        }
    }
}

/// Drops the preference center's kept sessions and pages once changed or old.
async fn sweep_person_caches(state: AppState) {
    let mut interval = tokio::time::interval(ME_SWEEP);
    loop {
        interval.tick().await;
        state.me_sessions.sweep();
        state.me_pages.sweep();
    }
}

/// Runs retention every `ASSENT_RETENTION_INTERVAL` (one process at a time per database).
async fn run_retention(state: AppState) {
    let mut interval = tokio::time::interval(state.settings.retention_interval);
    loop {
        interval.tick().await;
        let (db, keyring, catalog) = (state.db.clone(), state.keyring.clone(), state.catalog.current());
        let job = state.settings.retention_job(db, keyring, catalog);
        let outcome = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let Some(_lock) = crate::db::JobLock::try_acquire(&job.db.url, "retention")? else { return Ok(None) };
            Ok(Some(job.run(chrono::Utc::now(), |_| {})?))
        })
        .await;
        crate::metrics::retention_run(match &outcome {
            Ok(Ok(Some(_))) => "ok",
            Ok(Ok(None)) => "skipped",
            _ => "failed",
        });
        match outcome {
            Ok(Ok(Some(report))) if report != Default::default() => tracing::info!(?report, "retention run"),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "retention run failed"),
            Err(e) => tracing::warn!(error = %e, "retention task failed"),
        }
        state.mail_queued.notify_one();
    }
}
