//! `schedc explain`: one snapshot per shipped policy.

mod cli;
mod common;

use common::{display_name, policies_in};

use std::fs;

use schedc_compiler::check_source;

#[test]
fn every_shipped_policy_is_explained() {
    let files = policies_in("policies");
    assert!(files.len() >= 4, "the four shipped policies are there");
    for path in files {
        let name = display_name(&path);
        let src = fs::read_to_string(&path).expect("readable");
        let checked = check_source(&name, &src).expect("a shipped policy checks");
        let text = schedc_compiler::explain::explain(&checked);
        let stem = path.file_stem().expect("a file name").to_string_lossy().into_owned();
        insta::assert_snapshot!(format!("explain_{stem}"), text);
    }
}

#[test]
fn the_command_prints_the_explanation_and_refuses_a_bad_policy() {
    let run = cli::schedc(&["explain", "policies/fifo.policy"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("Scheduler `fifo`"), "{}", run.stdout);
    let bad = cli::schedc(&["explain", "tests/bad/unserved_queue.policy"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("schedc::unserved-queue"), "{}", bad.stderr);
}

/// The topology constructs (queues per LLC and node, `waker`, `prev_llc`,
/// `-> Q idle`) in words.
#[test]
fn topology_constructs_are_explained() {
    let path = common::root().join("tests/constructs/topology.policy");
    let src = fs::read_to_string(&path).expect("readable");
    let checked = check_source("topology.policy", &src).expect("the construct policy checks");
    insta::assert_snapshot!("explain_topology_constructs", schedc_compiler::explain::explain(&checked));
}

/// CPU sets: listed, and named where a preference, a route or a dispatch
/// line is limited to one.
#[test]
fn cpusets_are_explained() {
    let path = common::root().join("tests/constructs/cpusets.policy");
    let src = fs::read_to_string(&path).expect("readable");
    let checked = check_source("cpusets.policy", &src).expect("the construct policy checks");
    insta::assert_snapshot!("explain_cpuset_constructs", schedc_compiler::explain::explain(&checked));
}
