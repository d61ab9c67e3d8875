//! Running the `schedc` binary from the tool tests (fmt, explain, JSON
//! diagnostics, completions and the manual page).
#![allow(dead_code)] // each test crate uses its own subset

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// What a run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `schedc ARGS` in `dir` with `stdin` as its standard input.
pub fn schedc_in(dir: &Path, args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_schedc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("schedc starts");
    child.stdin.take().expect("piped stdin").write_all(stdin.as_bytes()).expect("stdin is writable");
    let out = child.wait_with_output().expect("schedc runs");
    Run {
        code: out.status.code().expect("schedc exits normally"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// Runs `schedc ARGS` in the workspace root.
pub fn schedc(args: &[&str]) -> Run {
    schedc_in(Path::new(env!("CARGO_MANIFEST_DIR")), args, "")
}

/// The subcommands `schedc --help` lists (without `help`).
pub fn subcommands() -> Vec<String> {
    let help = schedc(&["--help"]).stdout;
    let listing = help.split("Commands:").nth(1).expect("--help lists the commands");
    let listing = listing.split("\n\n").next().expect("the command list ends with a blank line");
    listing
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}
