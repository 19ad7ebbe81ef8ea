//! Origins a form trusts: who may frame it, call its JSON API from a browser (CORS), post its
//! HTML form, and be sent back to after a plain HTML form post. One rule for all: an exact
//! `scheme://host[:port]` match against the form's `allowed_origins` (or Assent's own origin),
//! never a prefix or a pattern.

/// `scheme://host[:port]` of an absolute http(s) URL, lower-cased; `None` for anything else.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let host = rest.split(['/', '?', '#']).next()?;
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    let ok = (scheme == "http" || scheme == "https") && !host.is_empty() && host.chars().all(plain);
    ok.then(|| format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// Whether `origin` (an `Origin` header value) is one of `allowed`.
pub fn is_allowed(allowed: &[String], origin: &str) -> bool {
    let Some(origin) = origin_of(origin.trim()).filter(|o| o.len() == origin.trim().len()) else {
        return false;
    };
    allowed.iter().filter_map(|a| origin_of(a.trim().trim_end_matches('/'))).any(|a| a == origin)
}

/// Whether a person may be sent to `url` after submitting: an absolute http(s) URL without
/// spaces or control characters whose origin is allowed. Anything else is ignored, so the form
/// cannot be turned into an open redirect.
pub fn redirect_allowed(allowed: &[String], url: &str) -> bool {
    if url.len() > 2000 || url.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\') {
        return false;
    }
    origin_of(url).is_some_and(|origin| is_allowed(allowed, &origin))
}

/// What a browser said about where a form post came from: the request headers, as sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostSource<'a> {
    pub origin: Option<&'a str>,
    pub sec_fetch_site: Option<&'a str>,
    pub referer: Option<&'a str>,
}

/// Whether a post to a form may be recorded: it comes from Assent itself (`own`, its base URL;
/// the form page and the embedded iframe) or from one of the form's `allowed` origins (the plain
/// HTML snippet on the owner's site). Anything else is a cross-site post, which could forge a
/// consent in the visitor's name, and is refused.
///
/// The browser's own word is used first: `Sec-Fetch-Site: same-origin` (which no page can fake),
/// then `Origin` (every current browser sends it on a POST; `null`, from sandboxed or privacy-
/// restricted contexts, is not trusted), then the `Referer`'s origin for older browsers. A request
/// with none of the three is not a browser posting across sites (curl, a server-side integration,
/// which could send any header it liked anyway): it is let through, and what it may change is
/// bounded by the door's other rules (double opt-in, pending changes), not by this one.
pub fn post_allowed(own: &str, allowed: &[String], source: PostSource<'_>) -> bool {
    let site = source.sec_fetch_site.map(str::trim);
    if site.is_some_and(|s| s.eq_ignore_ascii_case("same-origin")) {
        return true;
    }
    let trusted =
        |origin: &str| is_allowed(std::slice::from_ref(&own.to_owned()), origin) || is_allowed(allowed, origin);
    if let Some(origin) = source.origin {
        return trusted(origin);
    }
    if let Some(referer) = source.referer {
        return origin_of(referer.trim()).is_some_and(|origin| trusted(&origin));
    }
    // `none` is a person's own action (the address bar, a bookmark), never another page's.
    site.is_none_or(|s| s.eq_ignore_ascii_case("none"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        vec!["https://shop.example".into(), "http://127.0.0.1:3000/".into()]
    }

    #[test]
    fn only_exact_origins_are_allowed() {
        assert!(is_allowed(&allowed(), "https://shop.example"));
        assert!(is_allowed(&allowed(), "https://SHOP.example"));
        assert!(is_allowed(&allowed(), "http://127.0.0.1:3000"));
        for other in [
            "https://evil.example",
            "http://shop.example",
            "https://shop.example.evil.example",
            "https://shop.example:444",
            "null",
            "",
            "https://shop.example/path",
        ] {
            assert!(!is_allowed(&allowed(), other), "{other}");
        }
        assert!(!is_allowed(&[], "https://shop.example"));
    }

    #[test]
    fn redirects_go_only_to_allowed_origins() {
        assert!(redirect_allowed(&allowed(), "https://shop.example/thanks?from=assent"));
        assert!(redirect_allowed(&allowed(), "http://127.0.0.1:3000/"));
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/relative",
            "javascript:alert(1)",
            "https://shop.example@evil.example/",
            "https://shop.example\\@evil.example/",
            "https://shop.example/\nLocation: x",
            "https://shop.example.evil.example/",
        ] {
            assert!(!redirect_allowed(&allowed(), bad), "{bad}");
        }
    }

    #[test]
    fn origin_drops_path_and_query() {
        assert_eq!(origin_of("https://shop.example/signup?email=a@b.c").as_deref(), Some("https://shop.example"));
        assert_eq!(origin_of("javascript:alert(1)"), None);
    }

    const OWN: &str = "https://consent.example/";

    fn from(
        origin: Option<&'static str>,
        site: Option<&'static str>,
        referer: Option<&'static str>,
    ) -> PostSource<'static> {
        PostSource { origin, sec_fetch_site: site, referer }
    }

    #[test]
    fn posts_from_assent_itself_or_an_allowed_origin_are_accepted() {
        for source in [
            from(Some("https://consent.example"), Some("same-origin"), None),
            from(Some("https://consent.example"), None, None),
            from(Some("https://shop.example"), Some("cross-site"), Some("https://shop.example/signup")),
            from(Some("http://127.0.0.1:3000"), Some("cross-site"), None),
            // The browser vouches for the same origin even when the base URL is set wrong.
            from(Some("http://10.0.0.5:8080"), Some("same-origin"), None),
            from(None, None, Some("https://consent.example/f/newsletter?lang=ko")),
            from(None, None, Some("https://shop.example/")),
            from(None, Some("none"), None),
        ] {
            assert!(post_allowed(OWN, &allowed(), source), "{source:?}");
        }
    }

    #[test]
    fn cross_site_posts_are_refused() {
        for source in [
            from(Some("https://evil.example"), Some("cross-site"), Some("https://evil.example/")),
            from(Some("https://evil.example"), None, None),
            from(Some("null"), Some("cross-site"), None),
            from(Some("null"), None, Some("https://shop.example/")),
            from(Some(""), None, None),
            from(Some("https://shop.example.evil.example"), Some("cross-site"), None),
            from(Some("https://consent.example.evil.example"), Some("same-site"), None),
            // Origin wins over a Referer that claims otherwise.
            from(Some("https://evil.example"), None, Some("https://shop.example/")),
            from(None, None, Some("https://evil.example/page")),
            from(None, None, Some("not a url")),
            // A browser said it is cross-site and gave nothing to check against.
            from(None, Some("cross-site"), None),
            from(None, Some("same-site"), None),
        ] {
            assert!(!post_allowed(OWN, &allowed(), source), "{source:?}");
        }
    }

    #[test]
    fn a_post_with_no_browser_headers_is_not_a_cross_site_post() {
        assert!(post_allowed(OWN, &[], PostSource::default()));
    }
}
