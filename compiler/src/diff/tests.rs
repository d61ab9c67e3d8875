use super::*;
use crate::check_source;

const BPFLAND: &str = include_str!("../../../policies/bpfland.policy");
const FIFO: &str = include_str!("../../../policies/fifo.policy");

/// `src` with each (from, to) replaced once; every `from` must be there.
fn edit(src: &str, edits: &[(&str, &str)]) -> String {
    edits.iter().fold(src.to_string(), |text, (from, to)| {
        assert!(text.contains(from), "the policy has no {from:?}");
        text.replacen(from, to, 1)
    })
}

/// The summary from `old` to `new`, both of which must pass the checker.
fn summary(old: &str, new: &str) -> PolicyChange {
    let checked = |src: &str| {
        check_source("p.policy", src).unwrap_or_else(|reports| {
            let shown: Vec<String> = reports.iter().map(|r| r.diagnostic.message.clone()).collect();
            panic!("the policy does not check: {shown:?}\n{src}")
        })
    };
    diff(&checked(old), &checked(new))
}

fn lines(change: &PolicyChange) -> Vec<String> {
    change.to_string().lines().map(str::to_string).collect()
}

#[test]
fn comments_layout_units_and_documentation_are_no_change() {
    let new = edit(
        BPFLAND,
        &[
            ("# scx_bpfland as of August 2024", "# another comment"),
            ("param slice_max: duration = 5ms ", "param   slice_max : duration = 5_000us"),
            ("\"longest slice a task gets\"", "\"the longest slice\""),
            ("max(slice_max / (nr_waiting + 1), slice_min)", "max((slice_max / (nr_waiting + 1)), slice_min)"),
            ("    prio   starve after", "    prio starve after"),
        ],
    );
    let change = summary(BPFLAND, &new);
    assert!(change.is_empty(), "{change}");
    assert_eq!(change.to_string(), "no change in what the policy says (only comments, layout or documentation)");
}

#[test]
fn a_new_default_is_shown_alone_and_a_new_range_with_the_declaration() {
    let new = edit(BPFLAND, &[("slice_max: duration = 5ms", "slice_max: duration = 2ms")]);
    assert_eq!(lines(&summary(BPFLAND, &new)), ["param slice_max: 5ms → 2ms"]);

    let new =
        edit(BPFLAND, &[("\"longest slice a task gets\" in 1us..1s", "\"longest slice a task gets\" in 1us..2s")]);
    assert_eq!(
        lines(&summary(BPFLAND, &new)),
        ["param slice_max: duration = 5ms in 1us..1s → duration = 5ms in 1us..2s"]
    );
}

#[test]
fn formulas_are_quoted_before_and_after() {
    let new = edit(FIFO, &[("slice = slice_len", "slice = max(slice_len / 2, 1ms)")]);
    assert_eq!(lines(&summary(FIFO, &new)), ["slice: slice_len → max(slice_len / 2, 1ms)"]);

    let new = edit(BPFLAND, &[("max(slice_max / (nr_waiting + 1), slice_min)", "slice_max")]);
    assert_eq!(
        lines(&summary(BPFLAND, &new)),
        ["slice: { nr_waiting = (nr_waiting + queue.prio.len + queue.shared.len) / 2; \
             max(slice_max / (nr_waiting + 1), slice_min) } → \
             { nr_waiting = (nr_waiting + queue.prio.len + queue.shared.len) / 2; slice_max }"]
    );

    let new = edit(BPFLAND, &[("vtime lag = slice_lag\n", "")]);
    assert_eq!(lines(&summary(BPFLAND, &new)), ["vtime lag removed"]);
    let change = summary(&new, BPFLAND);
    assert_eq!(lines(&change), ["vtime lag added: slice_lag"]);
}

#[test]
fn declarations_added_and_removed_are_named() {
    let new = edit(
        FIFO,
        &[
            ("queue shared shared  fifo", "queue shared per_cpu fifo\nqueue batch shared fifo"),
            ("    shared\n}", "    shared\n    batch\n}"),
            ("else -> shared", "task is bulk -> batch\n    else -> shared"),
            ("counter nr_queued = queue.shared.inserted \"tasks that waited in the shared queue\"\n", ""),
            (
                "\nselect_cpu",
                "\nclass bulk \"batch work\"\ntask runs: uint = 0\ngauge bulk_runs: uint = 0 \"runs\"\n\
                 on running {\n    task.class = bulk\n    task.runs += 1\n    bulk_runs = task.runs\n}\nselect_cpu",
            ),
        ],
    );
    assert_eq!(
        lines(&summary(FIFO, &new)),
        [
            "queue shared: shared fifo → per_cpu fifo",
            "queue batch added: shared fifo",
            "class bulk added",
            "task runs added: uint = 0",
            "statistic bulk_runs added: gauge: uint = 0",
            "statistic nr_queued removed",
            "on running added: task.class = bulk; task.runs += 1; bulk_runs = task.runs",
            "enqueue changed:",
            "  + task is bulk -> batch",
            "dispatch changed:",
            "  + batch",
        ]
    );
}

#[test]
fn rule_blocks_show_the_lines_that_changed() {
    let new = edit(
        BPFLAND,
        &[
            ("    prio   starve after starvation_thresh", "    prio   starve after 1ms"),
            ("        if debug { trace", "        if not debug { trace"),
        ],
    );
    assert_eq!(
        lines(&summary(BPFLAND, &new)),
        [
            "on stopping changed:",
            "  - if debug { trace \"classified\", task.pid, task.avg_nvcsw, nvcsw_thresh }",
            "  + if not debug { trace \"classified\", task.pid, task.avg_nvcsw, nvcsw_thresh }",
            "dispatch changed:",
            "  - prio starve after starvation_thresh",
            "  + prio starve after 1ms",
        ]
    );
}

#[test]
fn the_scheduler_name_and_timeout() {
    let new =
        edit(FIFO, &[("scheduler fifo \"one global first-in-first-out queue\" timeout 10s", "scheduler fifo2 \"x\"")]);
    assert_eq!(lines(&summary(FIFO, &new)), ["scheduler: fifo → fifo2", "timeout: 10s → the kernel's default"]);
}

#[test]
fn line_changes_keep_the_common_lines_in_order() {
    let v = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
    assert_eq!(line_changes(&v("a b c d"), &v("a x c d e")), (v("b"), v("x e")));
    assert_eq!(line_changes(&v("a b"), &v("b a")), (v("b"), v("b")));
    assert_eq!(line_changes(&[], &v("a")), (vec![], v("a")));
}
