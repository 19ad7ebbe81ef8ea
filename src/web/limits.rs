//! Limits on what can be guessed or flooded: sign-in links, console sign-ins, form submissions,
//! and the slots for password hashing. Counted in memory by each process and, when servers share
//! a PostgreSQL database, in it too (`shared_limits`), so that N servers allow what one does. A client is counted by its address, an IPv6
//! client by its /64 (one subscriber's whole prefix: otherwise each of its 2^64 addresses would
//! have a budget of its own). Keys not seen for a while are dropped every minute
//! ([`RateLimits::forget_idle`]), so the limiters' memory stays bounded.

use std::net::IpAddr;
use std::sync::Arc;

use super::Settings;
use super::error::AppError;
use super::shared_limits::{Count, Shared};

/// What a client is counted as: its IPv4 address, or its IPv6 /64 (an IPv4-mapped IPv6
/// address is the IPv4 one).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

type KeyedLimiter<K> = governor::DefaultKeyedRateLimiter<K>;

/// Sign-in links per address, an hour (in each process and, on PostgreSQL, across them).
const LINKS_PER_ADDRESS_HOUR: u32 = 5;
/// Sign-in links per client, an hour.
const LINKS_PER_CLIENT_HOUR: u32 = 30;
/// Console sign-in (and reset) attempts per address, a minute.
const CONSOLE_PER_ADDRESS_MINUTE: u32 = 10;
/// Console sign-in (and reset) attempts per client, a minute.
const CONSOLE_PER_CLIENT_MINUTE: u32 = 30;

/// Limits on what can be guessed or flooded (per process).
pub struct RateLimits {
    /// Sign-in links per address: [`LINKS_PER_ADDRESS_HOUR`].
    pub sign_in_per_address: KeyedLimiter<Vec<u8>>,
    /// Sign-in links per client IP: [`LINKS_PER_CLIENT_HOUR`].
    pub sign_in_per_ip: KeyedLimiter<std::net::IpAddr>,
    /// Console sign-in attempts per client IP: [`CONSOLE_PER_CLIENT_MINUTE`].
    pub admin_sign_in_per_ip: KeyedLimiter<std::net::IpAddr>,
    /// Console sign-in attempts per address (a hash of it): [`CONSOLE_PER_ADDRESS_MINUTE`]; the
    /// growing delays after failures (`services::owners::count_failure`) do the rest.
    pub admin_sign_in_per_email: KeyedLimiter<Vec<u8>>,
    /// Form submissions per client IP (`ASSENT_SUBMISSIONS_PER_MINUTE`; none when 0).
    pub submissions_per_ip: Option<KeyedLimiter<std::net::IpAddr>>,
    /// Free slots for password hashing (`ASSENT_PASSWORD_HASHES`).
    pub password_hashing: Arc<tokio::sync::Semaphore>,
    /// The counters every server on one PostgreSQL database shares (none on SQLite).
    shared: Option<Shared>,
    submissions_per_minute: u32,
}

impl RateLimits {
    pub fn new(settings: &Settings) -> Self {
        use governor::{Quota, RateLimiter};
        use std::num::NonZeroU32;
        let per_hour = |n: u32| Quota::per_hour(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        let per_minute = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Self {
            sign_in_per_address: RateLimiter::keyed(per_hour(LINKS_PER_ADDRESS_HOUR)),
            sign_in_per_ip: RateLimiter::keyed(per_hour(LINKS_PER_CLIENT_HOUR)),
            admin_sign_in_per_ip: RateLimiter::keyed(per_minute(CONSOLE_PER_CLIENT_MINUTE)),
            admin_sign_in_per_email: RateLimiter::keyed(per_minute(CONSOLE_PER_ADDRESS_MINUTE)),
            submissions_per_ip: NonZeroU32::new(settings.submissions_per_minute)
                .map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            password_hashing: Arc::new(tokio::sync::Semaphore::new(settings.password_hashes.max(1))),
            shared: None,
            submissions_per_minute: settings.submissions_per_minute,
        }
    }

    /// The limits for a server on `db`: on PostgreSQL, counted in the database too, shared with
    /// every server on it.
    pub fn for_database(settings: &Settings, db: &crate::db::Db, keyring: &Arc<crate::crypto::Keyring>) -> Self {
        let mut limits = Self::new(settings);
        if let crate::db::DbUrl::Postgres(_) = db.url {
            limits.shared = Some(Shared::new(db.pool.clone(), keyring.clone()));
        }
        limits
    }

    async fn shared_allows(&self, counts: Vec<Count>) -> Result<bool, AppError> {
        match &self.shared {
            Some(shared) => shared.allows(counts).await,
            None => Ok(true),
        }
    }

    /// Runs `work` (a password hash or verification) on a blocking thread if a hashing slot is
    /// free; otherwise answers 503 at once, so that a flood of sign-ins cannot pile up threads and
    /// memory behind argon2.
    pub async fn hashing<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let slot = self.password_hashing.clone().try_acquire_owned().map_err(|_| AppError::Unavailable)?;
        actix_web::web::block(move || {
            let _slot = slot;
            work()
        })
        .await
        .map_err(|e| AppError::Internal(e.into()))
    }

    /// Counts a sign-in link asked for by this client for this address (its blind index);
    /// `false` past either limit.
    pub async fn sign_in_link(&self, ip: Option<IpAddr>, index: &[u8]) -> Result<bool, AppError> {
        let local = ip.is_none_or(|ip| self.sign_in_per_ip.check_key(&limit_key(ip)).is_ok())
            && self.sign_in_per_address.check_key(&index.to_vec()).is_ok();
        let mut counts = vec![Count::per_hour(format!("link-address:{}", hex::encode(index)), LINKS_PER_ADDRESS_HOUR)];
        counts.extend(ip.map(|ip| Count::per_hour(format!("link-ip:{}", limit_key(ip)), LINKS_PER_CLIENT_HOUR)));
        Ok(local && self.shared_allows(counts).await?)
    }

    /// Counts a console sign-in (or password-reset) attempt from this client for this address
    /// (kept as a hash of it, lower-cased); `false` past either limit.
    pub async fn console_attempt(&self, ip: Option<IpAddr>, address: &str) -> Result<bool, AppError> {
        if !self.console_attempt_here(ip, address) {
            return Ok(false);
        }
        let address = address.to_lowercase();
        let mut counts = vec![Count::per_minute(format!("console-address:{address}"), CONSOLE_PER_ADDRESS_MINUTE)];
        counts
            .extend(ip.map(|ip| Count::per_minute(format!("console-ip:{}", limit_key(ip)), CONSOLE_PER_CLIENT_MINUTE)));
        self.shared_allows(counts).await
    }

    fn console_attempt_here(&self, ip: Option<IpAddr>, address: &str) -> bool {
        let address = crate::crypto::sha256_hex(address.to_lowercase().as_bytes()).into_bytes();
        ip.is_none_or(|ip| self.admin_sign_in_per_ip.check_key(&limit_key(ip)).is_ok())
            && self.admin_sign_in_per_email.check_key(&address).is_ok()
    }

    /// Drops the keys whose budget is whole again (nothing to remember about them), and gives the
    /// memory back: run every minute.
    pub fn forget_idle(&self) {
        self.sign_in_per_address.retain_recent();
        self.sign_in_per_ip.retain_recent();
        self.admin_sign_in_per_ip.retain_recent();
        self.admin_sign_in_per_email.retain_recent();
        if let Some(limiter) = &self.submissions_per_ip {
            limiter.retain_recent();
        }
        self.sign_in_per_address.shrink_to_fit();
        self.sign_in_per_ip.shrink_to_fit();
        self.admin_sign_in_per_ip.shrink_to_fit();
        self.admin_sign_in_per_email.shrink_to_fit();
        if let Some(limiter) = &self.submissions_per_ip {
            limiter.shrink_to_fit();
        }
    }

    /// The keys remembered now, over every limiter (for tests and metrics).
    pub fn remembered(&self) -> usize {
        self.sign_in_per_address.len()
            + self.sign_in_per_ip.len()
            + self.admin_sign_in_per_ip.len()
            + self.admin_sign_in_per_email.len()
            + self.submissions_per_ip.as_ref().map_or(0, |l| l.len())
    }

    /// Counts a submission from this client; `Err(TooManyRequests)` past the limit.
    pub async fn submission(&self, ip: Option<std::net::IpAddr>) -> Result<(), AppError> {
        let (Some(limiter), Some(ip)) = (&self.submissions_per_ip, ip) else { return Ok(()) };
        if limiter.check_key(&limit_key(ip)).is_err() {
            return Err(AppError::TooManyRequests);
        }
        let count = Count::per_minute(format!("submissions-ip:{}", limit_key(ip)), self.submissions_per_minute);
        if self.shared_allows(vec![count]).await? { Ok(()) } else { Err(AppError::TooManyRequests) }
    }
}

/// Drops idle keys from every limiter once a minute, for as long as the server runs.
pub async fn keep_small(limits: Arc<RateLimits>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        every.tick().await;
        limits.forget_idle();
        if let Some(shared) = &limits.shared
            && let Err(e) = shared.forget_old().await
        {
            tracing::warn!(error = %e, "could not forget old rate-limit windows");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_counted_by_its_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(limit_key(a), limit_key(b));
        assert_ne!(limit_key(a), limit_key(other));
        let v4: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(limit_key(v4), v4);
        assert_eq!(limit_key("::ffff:203.0.113.9".parse().unwrap()), v4);
    }

    #[test]
    fn idle_keys_are_forgotten_and_counted_ones_kept() {
        use clap::Parser as _;
        #[derive(clap::Parser)]
        struct Args {
            #[command(flatten)]
            settings: crate::config::SettingsArgs,
        }
        let limits = RateLimits::new(&Settings::resolve(Args::parse_from(["assent"]).settings));
        for i in 0..50u8 {
            assert!(limits.console_attempt_here(Some(IpAddr::from([198, 51, 100, i])), &format!("a{i}@example.com")));
        }
        assert_eq!(limits.remembered(), 100, "50 clients and 50 addresses");
        // Each key used its budget once: none is whole again yet, so all are kept.
        limits.forget_idle();
        assert_eq!(limits.remembered(), 100);
    }
}
