//! The watched policy file: each save is checked, summarised against the
//! running policy and compiled into a candidate to swap in; the running
//! policy is kept when the new text has errors or does not build.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use notify_debouncer_full::notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult, Debouncer, RecommendedCache};
use schedc_abi::events::{SwapEvent, SwapOutcome, SwapReason};
use schedc_compiler::{check_source, diff, Checked};
use schedc_runtime::{carry_over, read_manifest};

use super::{say, Loaded};
use crate::compile::build;
use crate::error::{self, CliError};
use crate::output::DiagnosticArgs;
use crate::run::temp_dir;

/// How long the file must be quiet before a save counts: editors write in
/// several steps (truncate, write, rename).
const DEBOUNCE: Duration = Duration::from_millis(200);

/// A new version of the policy, checked and compiled, ready to load.
pub struct Candidate {
    pub checked: Checked,
    pub object: PathBuf,
    /// The `--set` values it takes.
    pub overrides: Vec<(String, String)>,
    /// Holds the object.
    dir: tempfile::TempDir,
}

/// The policy as it runs.
struct Running {
    checked: Checked,
    loaded: Loaded,
    /// Holds its object, which the runtime loads again if a swap fails.
    _dir: Option<tempfile::TempDir>,
}

pub struct PolicyWatcher {
    path: PathBuf,
    /// The `--set` values of the command line, offered to every version.
    overrides: Vec<(String, String)>,
    running: Running,
    /// The text last checked, to ignore saves that change nothing.
    last_text: String,
    events: Receiver<DebounceEventResult>,
    _debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
}

impl PolicyWatcher {
    /// Watches `path`, whose text `checked` is the running scheduler's. The
    /// directory is watched, not the file: an editor that saves by writing
    /// a new file and renaming it over the old one replaces the file.
    pub fn new(path: &Path, checked: Checked, overrides: &[(String, String)]) -> Result<PolicyWatcher, CliError> {
        let (tx, events) = channel();
        let watch_failed = |source: notify_debouncer_full::notify::Error| CliError::Watch {
            path: path.into(),
            source: std::io::Error::other(source.to_string()),
        };
        let mut debouncer = new_debouncer(DEBOUNCE, None, tx).map_err(watch_failed)?;
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        debouncer.watch(dir, RecursiveMode::NonRecursive).map_err(watch_failed)?;
        let last_text = checked.source.text().to_string();
        let loaded = Loaded::now(&checked.model.name);
        Ok(PolicyWatcher {
            path: path.into(),
            overrides: overrides.to_vec(),
            running: Running { checked, loaded, _dir: None },
            last_text,
            events,
            _debouncer: debouncer,
        })
    }

    /// The running scheduler's name and load time.
    pub fn loaded(&self) -> &Loaded {
        &self.running.loaded
    }

    /// The next version of the policy to swap in, if the file was saved with
    /// a new text that checks and builds. Otherwise says why the running
    /// scheduler stays, and returns `None`. Does not wait.
    pub fn next_candidate(&mut self) -> Option<Candidate> {
        if !self.saved() {
            return None;
        }
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            // Between an editor's delete and its write; the write comes next.
            Err(_) => return None,
        };
        if text == self.last_text {
            return None;
        }
        self.last_text = text.clone();
        let checked = match check_source(&self.path.display().to_string(), &text) {
            Ok(checked) => checked,
            Err(reports) => {
                DiagnosticArgs::default().print_reports(&reports);
                self.kept(None, SwapReason::PolicyErrors);
                return None;
            }
        };
        DiagnosticArgs::default().print_reports(&checked.warnings);
        let change = diff::diff(&self.running.checked, &checked);
        say(&format!("{} changed:", self.path.display()));
        for line in change.to_string().lines() {
            say(&format!("    {line}"));
        }
        let name = checked.model.name.clone();
        match self.compile(checked) {
            Ok(candidate) => Some(candidate),
            Err(err) => {
                error::print(&err);
                self.kept(Some(name), SwapReason::BuildFailed);
                None
            }
        }
    }

    /// Builds the object and picks the `--set` values it takes.
    fn compile(&self, checked: Checked) -> Result<Candidate, CliError> {
        let dir = temp_dir()?;
        let object = dir.path().join(format!("{}.bpf.o", checked.model.name));
        build(&checked, &object)?;
        let carried = carry_over(&self.overrides, &read_manifest(&object)?);
        if !carried.to_string().is_empty() {
            say(&carried.to_string());
        }
        Ok(Candidate { checked, object, overrides: carried.kept, dir })
    }

    /// Whether the policy file was written, created or renamed onto since
    /// the last call.
    fn saved(&self) -> bool {
        let name = self.path.file_name();
        let mut saved = false;
        while let Ok(result) = self.events.try_recv() {
            let Ok(events) = result else { continue };
            saved |= events
                .iter()
                .any(|e| !matches!(e.kind, EventKind::Access(_)) && e.paths.iter().any(|p| p.file_name() == name));
        }
        saved
    }

    /// Says that the running scheduler stays, and why.
    pub fn kept(&self, to: Option<String>, reason: SwapReason) {
        let loaded = &self.running.loaded;
        say(&format!("kept running: {loaded}"));
        let event =
            SwapEvent { outcome: SwapOutcome::Kept, from: loaded.name.clone(), to, gap_us: None, reason: Some(reason) };
        say(&event.to_string());
    }

    /// Takes the outcome of swapping in `candidate`: if it runs now, it is
    /// the policy the next version is compared with.
    pub fn settle(&mut self, candidate: Candidate, event: &SwapEvent) {
        if event.outcome == SwapOutcome::Ok {
            let loaded = Loaded::now(&candidate.checked.model.name);
            self.running = Running { checked: candidate.checked, loaded, _dir: Some(candidate.dir) };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    const FIFO: &str = include_str!("../../policies/fifo.policy");

    /// Polls `watcher` until the text of the file has been taken in (or
    /// ten seconds have passed), returning the candidate if there was one.
    fn next_after_save(watcher: &mut PolicyWatcher, text: &str) -> Option<Candidate> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(candidate) = watcher.next_candidate() {
                return Some(candidate);
            }
            if watcher.last_text == text {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the save of {text:?} was not seen");
    }

    fn swapped(candidate: &Candidate) -> SwapEvent {
        let to = Some(candidate.checked.model.name.clone());
        SwapEvent { outcome: SwapOutcome::Ok, from: "fifo".into(), to, gap_us: Some(1), reason: None }
    }

    #[test]
    fn saves_in_place_and_by_rename_become_candidates_and_broken_ones_keep_the_running_policy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.policy");
        std::fs::write(&path, FIFO).unwrap();
        let checked = check_source("mine.policy", FIFO).unwrap();
        let overrides = [("slice_len".to_string(), "5ms".to_string())];
        let mut watcher = PolicyWatcher::new(&path, checked, &overrides).unwrap();
        assert!(watcher.next_candidate().is_none(), "nothing was saved yet");

        // Written in place (truncated and rewritten), as many editors do.
        let faster = FIFO.replace("slice_len: duration = 20ms", "slice_len: duration = 10ms");
        std::fs::write(&path, &faster).unwrap();
        let candidate = next_after_save(&mut watcher, &faster).expect("a good save is a candidate");
        assert_eq!(candidate.overrides, overrides);
        assert!(std::fs::read(&candidate.object).is_ok_and(|b| crate::compile::is_bpf_object(&b)));
        let event = swapped(&candidate);
        watcher.settle(candidate, &event);

        // A broken save keeps what runs; saving the same text again is no event.
        std::fs::write(&path, "scheduler").unwrap();
        assert!(next_after_save(&mut watcher, "scheduler").is_none());
        assert_eq!(watcher.loaded().name, "fifo");

        // A new file renamed over the policy, as other editors save; the
        // parameter's new name leaves the --set value behind.
        let renamed = faster.replace("scheduler fifo ", "scheduler fifo2 ").replace("slice_len", "slice_time");
        let temporary = dir.path().join(".mine.policy.swp");
        std::fs::write(&temporary, &renamed).unwrap();
        std::fs::rename(&temporary, &path).unwrap();
        let candidate = next_after_save(&mut watcher, &renamed).expect("a renamed save is a candidate");
        assert_eq!(candidate.checked.model.name, "fifo2");
        assert!(candidate.overrides.is_empty());
        let event = swapped(&candidate);
        watcher.settle(candidate, &event);
        assert_eq!(watcher.loaded().name, "fifo2");
        assert_eq!(watcher.running.checked.source.text(), renamed);
    }

    #[test]
    fn other_files_in_the_directory_are_not_the_policy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.policy");
        std::fs::write(&path, FIFO).unwrap();
        let mut watcher = PolicyWatcher::new(&path, check_source("mine.policy", FIFO).unwrap(), &[]).unwrap();
        std::fs::write(dir.path().join("other.policy"), FIFO.replace("20ms", "10ms")).unwrap();
        std::thread::sleep(DEBOUNCE * 3);
        assert!(!watcher.saved());
        assert!(watcher.next_candidate().is_none());
    }
}
