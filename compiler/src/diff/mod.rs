//! What changed between two checked policies, in policy terms: parameters
//! with their old and new defaults, formulas before and after, queues,
//! classes, state and statistics added or removed, and the lines of each
//! rule block that changed. `schedc run --watch` prints it with each swap.
//!
//! Both policies are compared as the formatter spells them, so comments,
//! layout, digit grouping and equivalent duration units (`5_000us`, `5ms`)
//! are no change; documentation strings are not behaviour and are ignored.

use std::fmt;

use crate::ast::{self, GaugeSource, ItemKind, VtimePart};
use crate::fmt::ExprText;
use crate::Checked;

/// The kinds of things a policy says, in the order a summary lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    Scheduler,
    Param,
    Queue,
    Class,
    State,
    Statistic,
    Formula,
    Rules,
}

/// How one thing changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// It is new; what it says.
    Added(String),
    /// It is gone; what it said.
    Removed(String),
    /// It says something else now.
    Changed { old: String, new: String },
    /// A block of rules: its lines that are gone and its new lines.
    Rewritten { removed: Vec<String>, added: Vec<String> },
}

/// One change: `subject` names the thing as a reader of the policy knows
/// it, e.g. `param slice_max`, `queue prio`, `slice` or `on wakeup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub part: Part,
    pub subject: String,
    pub edit: Edit,
}

/// Everything that changed, grouped by [`Part`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyChange {
    pub changes: Vec<Change>,
}

impl PolicyChange {
    /// Whether the two policies say the same (only comments, layout or
    /// documentation differ).
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// What changed from `old` to `new`.
pub fn diff(old: &Checked, new: &Checked) -> PolicyChange {
    diff_texts(old.source.text(), new.source.text())
}

/// The comparison itself, on the texts of two policies that parse.
fn diff_texts(old: &str, new: &str) -> PolicyChange {
    let (old, new) = (entries(old), entries(new));
    let mut changes = Vec::new();
    for n in &new {
        let edit = match old.iter().find(|o| o.key() == n.key()) {
            None => Edit::Added(n.text.clone()),
            Some(o) => match edit_between(o, n) {
                Some(edit) => edit,
                None => continue,
            },
        };
        changes.push(Change { part: n.part, subject: n.subject.clone(), edit });
    }
    for o in old.iter().filter(|o| !new.iter().any(|n| n.key() == o.key())) {
        changes.push(Change { part: o.part, subject: o.subject.clone(), edit: Edit::Removed(o.text.clone()) });
    }
    changes.sort_by_key(|c| c.part);
    PolicyChange { changes }
}

/// One thing a policy says, spelt canonically.
#[derive(Debug)]
struct Entry {
    part: Part,
    /// What identifies it across the two policies: a declaration's name, or
    /// the formula or block it is.
    name: String,
    subject: String,
    /// What it says after its subject, on one line (documentation left out).
    text: String,
    /// For a parameter, its default alone and its type and range: when
    /// only the default changed, the summary shows just that.
    default: Option<(String, String)>,
    /// For a block of rules, its lines (inside the braces).
    lines: Vec<String>,
}

impl Entry {
    fn key(&self) -> (Part, &str) {
        (self.part, &self.name)
    }
}

/// The edit from `old` to `new`, the same thing in two policies; `None`
/// when it says the same.
fn edit_between(old: &Entry, new: &Entry) -> Option<Edit> {
    if old.text == new.text && old.subject == new.subject {
        return None;
    }
    if !old.lines.is_empty() || !new.lines.is_empty() {
        let (removed, added) = line_changes(&old.lines, &new.lines);
        return Some(Edit::Rewritten { removed, added });
    }
    let (old_text, new_text) = match (&old.default, &new.default) {
        // Same type and range: the default is what changed.
        (Some((a, old_rest)), Some((b, new_rest))) if old_rest == new_rest => (a, b),
        _ => (&old.text, &new.text),
    };
    Some(Edit::Changed { old: old_text.clone(), new: new_text.clone() })
}

/// The lines of `old` not kept in `new`, and the lines of `new` not in
/// `old`, each in order: what is left after the longest common subsequence.
fn line_changes(old: &[String], new: &[String]) -> (Vec<String>, Vec<String>) {
    // common[i][j]: the longest common subsequence of old[i..] and new[j..].
    let mut common = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            common[i][j] =
                if old[i] == new[j] { common[i + 1][j + 1] + 1 } else { common[i + 1][j].max(common[i][j + 1]) };
        }
    }
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            (i, j) = (i + 1, j + 1);
        } else if j < new.len() && (i == old.len() || common[i][j + 1] >= common[i + 1][j]) {
            added.push(new[j].clone());
            j += 1;
        } else {
            removed.push(old[i].clone());
            i += 1;
        }
    }
    (removed, added)
}

impl Entry {
    fn new(part: Part, name: &str, subject: String, text: String) -> Entry {
        Entry { part, name: name.into(), subject, text, default: None, lines: Vec::new() }
    }

    /// A block of rules: its lines inside the braces, one level less
    /// indented, with the alignment padding of `dispatch` gone (adding a
    /// starvation limit to one queue must not show every other line as
    /// changed).
    fn block(text: &ExprText, item: &ast::Item, subject: &str) -> Entry {
        let lines = text.item_lines(item);
        let lines: Vec<String> = lines[1..lines.len() - 1]
            .iter()
            .map(|l| {
                let l = l.strip_prefix("    ").unwrap_or(l);
                let indent = l.len() - l.trim_start().len();
                format!("{}{}", &l[..indent], l.split_whitespace().collect::<Vec<_>>().join(" "))
            })
            .collect();
        let said = lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join("; ");
        Entry { lines, ..Entry::new(Part::Rules, subject, subject.into(), said) }
    }
}

/// Everything a policy (which parses) says, one entry per thing.
fn entries(src: &str) -> Vec<Entry> {
    let (policy, _) = crate::parse::parse(src);
    let text = ExprText::new(src);
    policy.items.iter().flat_map(|item| item_entries(&text, item)).collect()
}

fn item_entries(text: &ExprText, item: &ast::Item) -> Vec<Entry> {
    let entry = match &item.kind {
        ItemKind::Scheduler { name, timeout, flags, .. } => {
            let timeout = timeout.as_ref().map_or("the kernel's default".to_string(), |t| text.expr(t));
            let flags = if flags.is_empty() {
                "none".to_string()
            } else {
                flags.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
            };
            return vec![
                Entry::new(Part::Scheduler, "name", "scheduler".into(), name.name.clone()),
                Entry::new(Part::Scheduler, "timeout", "timeout".into(), timeout),
                Entry::new(Part::Scheduler, "flags", "ops flags".into(), flags),
            ];
        }
        ItemKind::Param(p) => {
            let bound = |b: &Option<ast::Bound>| {
                b.as_ref()
                    .map_or(String::new(), |b| format!("{}{}", if b.negative { "-" } else { "" }, text.expr(&b.value)))
            };
            let range = if p.min.is_some() || p.max.is_some() {
                format!(" in {}..{}", bound(&p.min), bound(&p.max))
            } else {
                String::new()
            };
            let default = text.expr(&p.default);
            let said = format!("{} = {default}{range}", p.ty.ty.keyword());
            let rest = format!("{}{range}", p.ty.ty.keyword());
            Entry {
                default: Some((default, rest)),
                ..Entry::new(Part::Param, &p.name.name, format!("param {}", p.name.name), said)
            }
        }
        ItemKind::Queue { name, placement, order } => {
            let placement = placement.keyword();
            let order = if *order == ast::Order::Fifo { "fifo" } else { "vtime" };
            Entry::new(Part::Queue, &name.name, format!("queue {}", name.name), format!("{placement} {order}"))
        }
        ItemKind::Class { name, .. } => {
            Entry::new(Part::Class, &name.name, format!("class {}", name.name), String::new())
        }
        ItemKind::State { scope, name, ty, init } => {
            let subject = format!("{} {}", scope.keyword(), name.name);
            Entry::new(Part::State, &subject, subject.clone(), format!("{} = {}", ty.ty.keyword(), text.expr(init)))
        }
        ItemKind::Counter { name, bound, .. } => {
            let said = bound.as_ref().map_or("counter".to_string(), |b| format!("counter = {}", b.text()));
            Entry::new(Part::Statistic, &name.name, format!("statistic {}", name.name), said)
        }
        ItemKind::Gauge { name, source, .. } => {
            let said = match source {
                GaugeSource::Variable { ty, init } => format!("gauge: {} = {}", ty.ty.keyword(), text.expr(init)),
                GaugeSource::Bound(path) => format!("gauge = {}", path.text()),
            };
            Entry::new(Part::Statistic, &name.name, format!("statistic {}", name.name), said)
        }
        ItemKind::Slice(formula) => Entry::new(Part::Formula, "slice", "slice".into(), one_line(text, item, formula)),
        ItemKind::Vtime { part, formula } => {
            let subject = match part {
                VtimePart::Charge => "vtime charge",
                VtimePart::Lag => "vtime lag",
                VtimePart::Deadline => "vtime deadline",
            };
            Entry::new(Part::Formula, subject, subject.into(), one_line(text, item, formula))
        }
        ItemKind::Preempt { class, victim } => {
            let at = match victim {
                ast::PreemptVictim::TaskCpu => String::new(),
                ast::PreemptVictim::At(e) => format!(" at {}", text.expr(e)),
                ast::PreemptVictim::Lowest(_) => " at lowest".to_string(),
            };
            Entry::new(Part::Rules, "preempt", "preempt".into(), format!("{}{at}", class.name))
        }
        ItemKind::CpuSet { name, ranges, dynamic, .. } => {
            let subject = format!("cpuset {}", name.name);
            let dynamic = if *dynamic { " dynamic" } else { "" };
            Entry::new(Part::State, &subject, subject.clone(), format!("{}{dynamic}", ast::CpuRange::list(ranges)))
        }
        ItemKind::Const { name, value } => {
            Entry::new(Part::Formula, &format!("const {}", name.name), format!("const {}", name.name), text.expr(value))
        }
        ItemKind::Fn(f) => {
            let subject = format!("fn {}", f.name.name);
            let params: Vec<String> = f.params.iter().map(|(a, t)| format!("{}: {}", a.name, t.ty.keyword())).collect();
            Entry::new(
                Part::Formula,
                &subject,
                subject.clone(),
                format!("({}) = {}", params.join(", "), text.expr(&f.body)),
            )
        }
        ItemKind::On { event, .. } => Entry::block(text, item, &format!("on {}", event.keyword())),
        ItemKind::Timer { period, .. } => Entry::block(text, item, &format!("on timer {}", text.expr(period))),
        ItemKind::SelectCpu(_) => Entry::block(text, item, "select_cpu"),
        ItemKind::Enqueue { .. } => Entry::block(text, item, "enqueue"),
        ItemKind::Dispatch { .. } => Entry::block(text, item, "dispatch"),
    };
    vec![entry]
}

/// A formula on one line: `EXPR`, or `{ STATEMENT; ...; EXPR }`.
fn one_line(text: &ExprText, item: &ast::Item, formula: &ast::Formula) -> String {
    if formula.stmts.is_empty() {
        return text.expr(&formula.result);
    }
    let lines = text.item_lines(item);
    let inner: Vec<&str> = lines[1..lines.len() - 1].iter().map(|l| l.trim()).collect();
    format!("{{ {} }}", inner.join("; "))
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subject = &self.subject;
        match &self.edit {
            Edit::Added(text) if text.is_empty() => write!(f, "{subject} added"),
            Edit::Added(text) => write!(f, "{subject} added: {text}"),
            Edit::Removed(_) => write!(f, "{subject} removed"),
            Edit::Changed { old, new } => write!(f, "{subject}: {old} → {new}"),
            Edit::Rewritten { removed, added } => {
                write!(f, "{subject} changed:")?;
                // Without the lines around them, their depth would mislead.
                for line in removed {
                    write!(f, "\n  - {}", line.trim())?;
                }
                for line in added {
                    write!(f, "\n  + {}", line.trim())?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for PolicyChange {
    /// One line per change (a rule block's changed lines under it), or a
    /// line saying nothing changed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            return write!(f, "no change in what the policy says (only comments, layout or documentation)");
        }
        let lines: Vec<String> = self.changes.iter().map(Change::to_string).collect();
        write!(f, "{}", lines.join("\n"))
    }
}

#[cfg(test)]
mod tests;
