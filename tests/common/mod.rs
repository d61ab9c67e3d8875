//! What the workspace-level tests share: where the policies are, how a
//! policy is named in messages, how reports are drawn, and blessing.
#![allow(dead_code)] // each test crate uses its own subset

use std::fs;
use std::path::{Path, PathBuf};

use schedc_compiler::Report;

/// The width reports are drawn at in snapshots.
pub const WIDTH: usize = 100;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `.policy` files of a folder (relative to the workspace, or absolute),
/// sorted by name.
pub fn policies_in(dir: impl AsRef<Path>) -> Vec<PathBuf> {
    let dir = root().join(dir);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "policy"))
        .collect();
    files.sort();
    files
}

/// A path relative to the workspace, so that snapshots and messages do not
/// depend on where the repository is checked out.
pub fn display_name(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

pub fn render(reports: &[Report]) -> String {
    reports.iter().map(|r| r.render_plain(WIDTH)).collect::<Vec<_>>().join("\n")
}

/// `SCHEDC_BLESS=1` rewrites snapshots instead of comparing with them.
pub fn blessing() -> bool {
    std::env::var_os("SCHEDC_BLESS").is_some_and(|v| v == "1")
}
