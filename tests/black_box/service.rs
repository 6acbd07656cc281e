//! Starts the real binary on a free port and keeps what it logs.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

pub const SECRET: &str = "black-box-secret-0123456789abcdef0123";

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The binary with a clean environment: no inherited `APP__`/secret/MongoDB variables.
pub fn command(vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_webhook-api"));
    command.current_dir(workspace_root()).env_clear().env("RUST_LOG", "info").env("APP__SERVER__PORT", "0");
    for (name, value) in vars {
        command.env(name, value);
    }
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

pub struct RunningService {
    pub base_url: String,
    logs: Arc<Mutex<String>>,
    child: Child,
}

/// Starts the binary and waits until it logs the port it listens on.
pub fn spawn_service(vars: &[(&str, &str)]) -> RunningService {
    let mut child = command(vars).spawn().expect("the webhook-api binary starts");
    let logs = Arc::new(Mutex::new(String::new()));
    let (port_found, port) = mpsc::channel();
    for stream in [
        Box::new(child.stderr.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stdout.take().unwrap()),
    ] {
        let logs = Arc::clone(&logs);
        let port_found = port_found.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if let Some(port) = line.split("listening on 127.0.0.1:").nth(1) {
                    let _ = port_found.send(port.trim().to_owned());
                }
                logs.lock().unwrap().push_str(&(line + "\n"));
            }
        });
    }
    let port = port.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|_| {
        let _ = child.kill();
        panic!("the service did not start listening:\n{}", logs.lock().unwrap())
    });
    RunningService { base_url: format!("http://127.0.0.1:{port}"), logs, child }
}

impl RunningService {
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// `GET /webhook/openhands/status` with the secret, as JSON.
    pub async fn status(&self) -> serde_json::Value {
        let response = reqwest::Client::new()
            .get(self.url("/webhook/openhands/status"))
            .header("X-Webhook-Secret", SECRET)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        response.json().await.unwrap()
    }

    /// `POST /webhook/openhands/keys` of `body` as JSON, with the secret.
    pub fn post_key(&self, client: &reqwest::Client, body: &serde_json::Value) -> reqwest::RequestBuilder {
        client
            .post(self.url("/webhook/openhands/keys"))
            .header("X-Webhook-Secret", SECRET)
            .header("Content-Type", "application/json")
            .body(body.to_string())
    }

    /// SIGKILL: the process dies at once, whatever it was doing.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn send_sigterm(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary expecting it to refuse to start; returns its exit status and logs.
pub fn run_to_exit(vars: &[(&str, &str)]) -> (ExitStatus, String) {
    let mut child = command(vars).spawn().expect("the webhook-api binary starts");
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            let logs = String::from_utf8_lossy(&output.stderr).into_owned() + &String::from_utf8_lossy(&output.stdout);
            return (status, logs);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("the service kept running although it should have refused to start");
}
