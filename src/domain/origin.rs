//! Origins a form trusts: who may frame it, call its JSON API from a browser (CORS), and be sent
//! back to after a plain HTML form post. One rule for all three: an exact `scheme://host[:port]`
//! match against the form's `allowed_origins`, never a prefix or a pattern.

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
}
