//! Console test helpers: owners created through the service layer, and a browser-like client
//! that keeps every cookie it is given (the sign-in form's CSRF cookie and the session).

use crate::helpers::*;
use assent::domain::owner::Role;
use std::collections::BTreeMap;
use std::sync::Mutex;

pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    /// Creates a console account directly through the service layer; returns its address.
    pub fn owner(&self, role: Role) -> String {
        let email = unique_email();
        assent::services::owners::create(&mut self.conn(), &email, PASSWORD, role).expect("owner created");
        email
    }

    /// A cookie-keeping client for the console.
    pub fn console(&self) -> Console {
        Console { base: self.address.clone(), client: self.client.clone(), cookies: Mutex::new(BTreeMap::new()) }
    }

    /// A cookie-keeping client for the console of another server (`another_server_with`).
    pub fn console_at(&self, base: &str) -> Console {
        Console { base: base.to_owned(), client: self.client.clone(), cookies: Mutex::new(BTreeMap::new()) }
    }

    /// A new account with `role`, signed in.
    pub async fn signed_in(&self, role: Role) -> Console {
        let console = self.console();
        let email = self.owner(role);
        let response = console.sign_in(&email, PASSWORD).await;
        assert_eq!(response.status(), 303, "the owner signs in");
        console
    }
}

pub struct Console {
    base: String,
    client: reqwest::Client,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl Console {
    fn remember(&self, response: &reqwest::Response) {
        let mut jar = self.cookies.lock().unwrap();
        for value in response.headers().get_all("set-cookie") {
            let value = value.to_str().unwrap();
            let Some((name, v)) = value.split(';').next().and_then(|pair| pair.split_once('=')) else { continue };
            if value.contains("Max-Age=0") || v.is_empty() {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), v.to_owned());
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.lock().unwrap().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    pub fn has_session(&self) -> bool {
        self.cookies.lock().unwrap().contains_key("assent_admin")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.remember(&response);
        response
    }

    /// GETs a page that must answer 200 and returns its HTML.
    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.unwrap()
    }

    pub async fn post(&self, path: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", self.cookie_header())
            .body(form_body(pairs))
            .send()
            .await
            .unwrap();
        self.remember(&response);
        response
    }

    /// POSTs `multipart/form-data` (an upload): text `fields` and `files` as (name, file name,
    /// bytes), with the page's CSRF token added.
    pub async fn upload(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> reqwest::Response {
        let boundary = format!("assent-test-{}", uuid::Uuid::new_v4().simple());
        let csrf = self.csrf().await;
        let mut body = Vec::new();
        for (name, value) in fields.iter().chain([&("csrf", csrf.as_str())]) {
            let part = format!("--{boundary}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n");
            body.extend_from_slice(part.as_bytes());
        }
        for (name, file_name, bytes) in files {
            let head = format!(
                "--{boundary}\r\ncontent-disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\ncontent-type: application/octet-stream\r\n\r\n"
            );
            body.extend_from_slice(head.as_bytes());
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .header("cookie", self.cookie_header())
            .body(body)
            .send()
            .await
            .unwrap();
        self.remember(&response);
        response
    }

    /// POSTs with the page's CSRF token added.
    pub async fn submit(&self, path: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf().await;
        let mut all = pairs.to_vec();
        all.push(("csrf", &csrf));
        self.post(path, &all).await
    }

    /// The session's CSRF token, as the console pages carry it.
    pub async fn csrf(&self) -> String {
        csrf_in(&self.page("/admin?lang=en").await)
    }

    /// Opens the sign-in form and sends it.
    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        let csrf = csrf_in(&self.page("/admin/login?lang=en").await);
        self.post("/admin/login?lang=en", &[("email", email), ("password", password), ("csrf", &csrf)]).await
    }
}

pub fn csrf_in(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker).expect("a CSRF field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}
