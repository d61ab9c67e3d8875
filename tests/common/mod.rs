//! What the workspace-level tests share: where the policies are, how a
//! policy is named in messages, how reports are drawn, and where snapshots
//! are kept.
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

/// The file name of `path` without its extension.
pub fn stem(path: &Path) -> String {
    path.file_stem().expect("a file name").to_string_lossy().into_owned()
}

/// insta settings that keep the snapshot `NAME.snap` of `input` in `dir`
/// (relative to the workspace) and record which file it was made from.
pub fn snapshot_settings(dir: &str, input: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join(dir));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_input_file(input);
    settings
}

/// The snapshots in `dir` whose input is gone: `input_of(NAME)` names
/// the file that `NAME.snap` was made from.
pub fn orphan_snapshots(dir: &str, input_of: impl Fn(&str) -> PathBuf) -> Vec<String> {
    let dir = root().join(dir);
    fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "snap") && !input_of(&stem(path)).exists())
        .map(|path| format!("{}: a snapshot without its input", display_name(&path)))
        .collect()
}
