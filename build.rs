//! Embeds every interface catalogue under `locales/` (`<tag>.ftl`): adding a language is adding
//! a file there, nothing in the code.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    commit();
    println!("cargo:rerun-if-changed=locales");
    // Read at run time, not with `env!`: a build script compiled for one checkout (a copied
    // target/, a worktree) must still embed the catalogues of the checkout it builds.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest_dir).join("locales");
    let mut tags: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("locales/ holds the interface catalogues")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "ftl"))
        .map(|path| {
            println!("cargo:rerun-if-changed={}", path.display());
            let tag = path.file_stem().and_then(|s| s.to_str()).expect("a catalogue is named <tag>.ftl").to_owned();
            (tag, path.display().to_string())
        })
        .collect();
    // English first: it is the last fallback of every other catalogue.
    tags.sort_by(|a, b| (a.0 != "en", &a.0).cmp(&(b.0 != "en", &b.0)));
    assert!(tags.first().is_some_and(|t| t.0 == "en"), "locales/en.ftl must exist");
    let mut out = String::from("/// Every shipped catalogue: its language tag and its Fluent source.\n");
    out.push_str("pub(crate) static CATALOGUES: &[(&str, &str)] = &[\n");
    for (tag, path) in &tags {
        writeln!(out, "    ({tag:?}, include_str!({path:?})),").expect("writing to a String");
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("catalogues.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}

/// The commit built, for `assent --version`: `ASSENT_COMMIT` when set (a build from a source
/// archive), else what git says of the checkout, else `unknown`.
fn commit() {
    println!("cargo:rerun-if-env-changed=ASSENT_COMMIT");
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let git = Path::new(&manifest_dir).join(".git");
    if git.is_dir() {
        // A new commit moves HEAD or the branch it names.
        println!("cargo:rerun-if-changed={}", git.join("HEAD").display());
        if let Ok(head) = std::fs::read_to_string(git.join("HEAD"))
            && let Some(branch) = head.trim().strip_prefix("ref: ")
        {
            println!("cargo:rerun-if-changed={}", git.join(branch).display());
        }
    }
    let from_git = || {
        let out = std::process::Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .current_dir(&manifest_dir)
            .output()
            .ok()?;
        let hash = String::from_utf8(out.stdout).ok()?.trim().to_owned();
        (out.status.success() && !hash.is_empty()).then_some(hash)
    };
    let commit = std::env::var("ASSENT_COMMIT").ok().filter(|c| !c.is_empty()).or_else(from_git);
    println!("cargo:rustc-env=ASSENT_COMMIT={}", commit.as_deref().unwrap_or("unknown"));
}
