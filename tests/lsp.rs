//! `schedc lsp` driven as an editor drives it: JSON-RPC messages with
//! Content-Length headers over the real binary's stdin and stdout.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

/// How long any one answer may take before the test gives up on the server.
const PATIENCE: Duration = Duration::from_secs(20);

const URI: &str = "file:///policies/demo.policy";

/// Checks cleanly. Line 5 has non-ASCII text before `task.nvcsw`, so its
/// UTF-16 columns differ from its byte columns.
const GOOD: &str = r#"scheduler demo "démo ✓ 𝄞" timeout 5s
param slice_max: duration = 5ms "longest slice 𝄞" in 1us..1s
queue fast shared fifo
queue slow shared fifo
class quick "wakes up often"
on wakeup { if event.sync { task.class = quick } trace "é𝄞", task.nvcsw }
enqueue {
    task is quick -> fast
    else -> slow
}
dispatch {
    fast
    slow
}
slice = slice_max
"#;

struct Server {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
}

impl Server {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_schedc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("schedc lsp starts");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        // A reader thread, so that a silent server fails the test instead of hanging it.
        let (sender, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut stdout = stdout;
            while let Some(message) = read_message(&mut stdout) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        Server { child, stdin, messages, next_id: 1 }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("server reads stdin");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn next(&mut self) -> Value {
        self.messages.recv_timeout(PATIENCE).expect("the server answers in time")
    }

    /// Sends a request and returns its result; notifications on the way are dropped.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.next();
            if message["id"] == json!(id) {
                assert!(message.get("error").is_none(), "{method} failed: {message}");
                return message["result"].clone();
            }
        }
    }

    /// The next diagnostics published for the document.
    fn diagnostics(&mut self) -> Vec<Value> {
        loop {
            let message = self.next();
            if message["method"] == "textDocument/publishDiagnostics" {
                assert_eq!(message["params"]["uri"], URI);
                return message["params"]["diagnostics"].as_array().expect("a list").clone();
            }
        }
    }

    fn at(&mut self, method: &str, line: u32, character: u32, extra: Value) -> Value {
        let mut params =
            json!({ "textDocument": { "uri": URI }, "position": { "line": line, "character": character } });
        params.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        self.request(method, params)
    }
}

fn read_message(stdout: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut header = String::new();
        if stdout.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some(n) = header.strip_prefix("Content-Length: ") {
            length = Some(n.parse::<usize>().expect("a number"));
        }
    }
    let mut body = vec![0; length.expect("a Content-Length header")];
    stdout.read_exact(&mut body).ok()?;
    Some(serde_json::from_slice(&body).expect("the body is JSON"))
}

/// The LSP position (line, UTF-16 column) of the `nth` occurrence of `needle` in `text`.
fn position_of(text: &str, needle: &str, nth: usize) -> (u32, u32) {
    let offset = text.match_indices(needle).nth(nth).expect("needle in text").0;
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..offset].matches('\n').count();
    (line as u32, text[line_start..offset].encode_utf16().count() as u32)
}

fn labels(completion: &Value) -> Vec<String> {
    let items = completion.as_array().or_else(|| completion["items"].as_array()).expect("completion items");
    items.iter().map(|i| i["label"].as_str().expect("a label").to_string()).collect()
}

#[test]
fn an_editor_session() {
    let mut server = Server::start();
    let init = server.request("initialize", json!({ "processId": null, "rootUri": null, "capabilities": {} }));
    let capabilities = &init["capabilities"];
    for provider in ["hoverProvider", "definitionProvider", "referencesProvider", "completionProvider"] {
        assert!(!capabilities[provider].is_null(), "{provider} missing from {capabilities}");
    }
    server.notify("initialized", json!({}));

    // A misspelt fact: one error, placed in UTF-16 columns.
    let bad = GOOD.replace("task.nvcsw }", "task.nvcs }");
    server.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": URI, "languageId": "schedc", "version": 1, "text": bad } }),
    );
    let diagnostics = server.diagnostics();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let d = &diagnostics[0];
    let (line, start) = position_of(&bad, "nvcs }", 0);
    let byte_column = bad.lines().nth(line as usize).unwrap().find("nvcs }").unwrap() as u32;
    assert_ne!(start, byte_column, "the line must have characters that UTF-16 counts differently");
    assert_eq!(
        d["range"],
        json!({ "start": { "line": line, "character": start }, "end": { "line": line, "character": start + 4 } })
    );
    assert_eq!(d["code"], "unknown-name");
    assert_eq!(d["severity"], 1);
    let message = d["message"].as_str().unwrap();
    assert!(message.contains("`nvcs`") && message.contains("did you mean `nvcsw`?"), "{message}");
    assert_eq!(d["relatedInformation"][0]["message"], "not declared");

    // Fixed: the diagnostics are cleared.
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI, "version": 2 }, "contentChanges": [{ "text": GOOD }] }),
    );
    assert_eq!(server.diagnostics(), Vec::<Value>::new());

    // Hover on a parameter where it is used, and on a fact.
    let (line, character) = position_of(GOOD, "slice_max\n", 0);
    let hover = server.at("textDocument/hover", line, character + 2, json!({}));
    let text = hover["contents"]["value"].as_str().expect("markdown");
    assert!(text.contains("param slice_max: duration = 5ms in 1us..1s"), "{text}");
    assert!(text.contains("longest slice 𝄞") && text.contains("Unit: nanoseconds"), "{text}");
    let (line, character) = position_of(GOOD, "event.sync", 0);
    let hover = server.at("textDocument/hover", line, character + 7, json!({}));
    assert!(hover["contents"]["value"].as_str().unwrap().contains("event.sync: bool"), "{hover}");
    assert_eq!(hover["range"]["start"], json!({ "line": line, "character": character }));

    // Definition of the queue a route sends tasks to.
    let (line, character) = position_of(GOOD, "-> fast", 0);
    let definition = server.at("textDocument/definition", line, character + 4, json!({}));
    let (decl_line, decl_character) = position_of(GOOD, "fast", 0);
    assert_eq!(definition["uri"], URI);
    assert_eq!(definition["range"]["start"], json!({ "line": decl_line, "character": decl_character }));

    // References of a class, from its declaration.
    let (line, character) = position_of(GOOD, "quick", 0);
    let references =
        server.at("textDocument/references", line, character, json!({ "context": { "includeDeclaration": true } }));
    let starts: Vec<Value> = references.as_array().unwrap().iter().map(|r| r["range"]["start"].clone()).collect();
    let expected: Vec<Value> = (0..3)
        .map(|nth| {
            let (line, character) = position_of(GOOD, "quick", nth);
            json!({ "line": line, "character": character })
        })
        .collect();
    assert_eq!(starts, expected);

    // Completion after `task.` (on the non-ASCII line) and after `-> `.
    let (line, character) = position_of(GOOD, "task.nvcsw", 0);
    let facts = labels(&server.at("textDocument/completion", line, character + 5, json!({})));
    assert!(facts.contains(&"nvcsw".to_string()) && facts.contains(&"weight".to_string()), "{facts:?}");
    let (line, character) = position_of(GOOD, "-> slow", 0);
    let queues = labels(&server.at("textDocument/completion", line, character + 3, json!({})));
    assert_eq!(queues, ["fast", "slow"]);

    // A clean shutdown.
    assert_eq!(server.request("shutdown", Value::Null), Value::Null);
    server.notify("exit", Value::Null);
    drop(server.stdin);
    let status = wait(&mut server.child);
    assert!(status.success(), "schedc lsp exited with {status}");
    assert_eq!(stderr(&mut server.child), "", "a clean session says nothing on stderr");
}

#[test]
fn malformed_messages_are_survived_and_leaving_without_shutdown_fails() {
    let mut server = Server::start();
    server.request("initialize", json!({ "processId": null, "rootUri": null, "capabilities": {} }));
    server.notify("initialized", json!({}));
    server.notify("textDocument/didOpen", json!({ "textDocument": 42 }));
    // Still serving: a request about a document it does not know has no answer.
    let hover = server.at("textDocument/hover", 0, 0, json!({}));
    assert_eq!(hover, Value::Null);
    let id = server.next_id;
    server.send(json!({ "jsonrpc": "2.0", "id": id, "method": "workspace/symbol", "params": { "query": "" } }));
    let answer = server.next();
    assert_eq!(answer["error"]["code"], -32601, "unknown methods are refused: {answer}");
    server.notify("exit", Value::Null);
    drop(server.stdin);
    let status = wait(&mut server.child);
    assert_eq!(status.code(), Some(1), "exit without shutdown");
    let said = stderr(&mut server.child);
    assert!(said.contains("malformed notification") && said.contains("without `shutdown`"), "{said}");
}

/// What the exited server wrote on stderr (little enough to fit the pipe).
fn stderr(child: &mut Child) -> String {
    let mut said = String::new();
    child.stderr.take().expect("piped stderr").read_to_string(&mut said).expect("stderr is text");
    said
}

fn wait(child: &mut Child) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().expect("waitable") {
            return status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().expect("kill a hung server");
            panic!("schedc lsp did not exit after `exit`");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
