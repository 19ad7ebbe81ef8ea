//! Forms as code both ways: `assent export` writes what `assent apply` accepts unchanged.

use crate::helpers::*;
use crate::on_both_backends;

/// Runs the `assent` binary against another database.
fn cli_on(db: &TestDb, master_key: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_assent"))
        .args(args)
        .env("ASSENT_DATABASE_URL", &db.url)
        .env("ASSENT_DATA_DIR", db.dir.path())
        .env("ASSENT_MASTER_KEY", master_key)
        .env("ASSENT_CONFIG", workspace_file())
        .output()
        .expect("run assent")
}

fn ok(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

on_both_backends! {
    async fn an_exported_workspace_applies_unchanged_and_exports_identically(app: TestApp) {
        let exported = app.db.dir.path().join("exported.toml");
        ok(&app.cli(&["export", "--output", exported.to_str().unwrap()]));
        let text = std::fs::read_to_string(&exported).unwrap();
        assert!(text.contains("key = \"marketing_sms\"") && text.contains("retention = \"2y\""), "{text}");
        assert!(text.contains("renewal_window_days = 30") && text.contains("double_opt_in = true"), "{text}");
        assert_eq!(ok(&app.cli(&["export"])), text, "standard output and --output agree");

        // Applied to the database it came from: nothing new is published.
        let said = ok(&app.cli(&["apply", exported.to_str().unwrap()]));
        assert!(said.contains("nothing changed"), "{said}");

        // Applied to a fresh database, it exports the very same text.
        let fresh = TestDb::create(app.db.backend).expect("a second database");
        let said = ok(&cli_on(&fresh, &app.master_key, &["apply", exported.to_str().unwrap()]));
        assert!(said.contains("form newsletter: published version 1"), "{said}");
        assert_eq!(ok(&cli_on(&fresh, &app.master_key, &["export"])), text);
    }

    async fn the_export_follows_changes_to_wording_and_forms(app: TestApp) {
        let original = std::fs::read_to_string(workspace_file()).unwrap();
        let edited = original
            .replace("혜택 문자를 보내 드립니다.", "혜택 문자를 월 4회 이내로 보내 드립니다.")
            .replacen("allowed_origins = []", "allowed_origins = [\"https://shop.example\"]", 1);
        let path = app.db.dir.path().join("edited.toml");
        std::fs::write(&path, edited).unwrap();
        ok(&app.cli(&["apply", path.to_str().unwrap()]));
        let text = ok(&app.cli(&["export"]));
        assert!(text.contains("월 4회"), "the current wording is exported");
        assert!(text.contains("allowed_origins = [\"https://shop.example\"]"), "{text}");
        let exported = app.db.dir.path().join("exported.toml");
        std::fs::write(&exported, &text).unwrap();
        assert!(ok(&app.cli(&["apply", exported.to_str().unwrap()])).contains("nothing changed"));
    }
}
