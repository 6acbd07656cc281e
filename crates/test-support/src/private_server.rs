//! A MongoDB-wire server of a test's own, to stop and start at will: the command in
//! `TEST_MONGODB_SERVER_CMD` (SecantusDB's `secantusd-py`, which `make test` provides), so
//! killing it disturbs no other test.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A server process on a fixed port, killed when dropped so a failing test leaves none behind.
pub struct PrivateServer {
    command: Vec<String>,
    port: u16,
    process: Option<Child>,
}

impl PrivateServer {
    /// Starts a server on a free port, with empty in-memory storage.
    pub fn start() -> Self {
        let command = std::env::var("TEST_MONGODB_SERVER_CMD").unwrap_or_default();
        let command: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
        assert!(
            !command.is_empty(),
            "TEST_MONGODB_SERVER_CMD is not set. This test starts and kills a MongoDB-wire server of its own: \
             set it to SecantusDB's `secantusd-py` (pip install secantusdb==0.7.0b3), or run `make test`, \
             which sets it."
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("the kernel hands out a free port");
        let port = listener.local_addr().expect("a bound socket has an address").port();
        drop(listener);
        let mut server = Self { command, port, process: None };
        server.restart();
        server
    }

    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}/", self.port)
    }

    /// Starts the server again on the same port, empty; returns once it accepts connections.
    pub fn restart(&mut self) {
        let process = Command::new(&self.command[0])
            .args(&self.command[1..])
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string(), "--storage-path", ":memory:"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run TEST_MONGODB_SERVER_CMD ({:?}): {error}", self.command));
        self.process = Some(process);
        let deadline = Instant::now() + START_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "the private server did not listen on port {} in time", self.port);
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kills the server at once, as a crash or a pulled cable would.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            // Already gone is fine; waiting reaps it so the port is free again.
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.kill();
    }
}
