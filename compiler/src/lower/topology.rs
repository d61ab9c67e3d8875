//! Queues with one instance per last-level cache or per NUMA node.
//!
//! Which LLC and node a CPU belongs to is not something a BPF program can
//! ask every kernel, so the runtime writes it into two read-only arrays
//! before load, from sysfs. Loaded by another loader the arrays stay zero:
//! every CPU is then in LLC 0 and node 0, and such a queue behaves as one
//! shared queue, which is still a correct scheduler.

use super::Lowering;
use crate::ir::{Function, Global};
use crate::model::{Fact, Placement, PreferenceKind};

/// A level of the machine a queue can have one instance per.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Domain {
    Llc,
    Node,
}

impl Domain {
    pub(super) const ALL: [Domain; 2] = [Domain::Llc, Domain::Node];

    pub(super) fn placement(self) -> Placement {
        match self {
            Domain::Llc => Placement::PerLlc,
            Domain::Node => Placement::PerNode,
        }
    }

    /// `llc` / `node`: the middle of the C names.
    pub(super) fn word(self) -> &'static str {
        match self {
            Domain::Llc => "llc",
            Domain::Node => "node",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Domain::Llc => "last-level cache",
            Domain::Node => "NUMA node",
        }
    }

    /// The DSQ id macro of the header: `SCHEDC_LLC_DSQ(k, llc)`.
    pub(super) fn dsq_macro(self) -> &'static str {
        match self {
            Domain::Llc => "SCHEDC_LLC_DSQ",
            Domain::Node => "SCHEDC_NODE_DSQ",
        }
    }
}

impl Lowering<'_> {
    /// Whether the policy has queues with an instance per LLC or node.
    pub(super) fn has_domain(&self, domain: Domain) -> bool {
        self.model.queues.iter().any(|q| q.placement == domain.placement())
    }

    /// `select_cpu { prev_llc }`.
    fn prefers_prev_llc(&self) -> bool {
        self.model.select.iter().flat_map(|s| &s.preferences).any(|p| p.kind == PreferenceKind::PrevLlc)
    }

    /// Whether the C needs the map from CPU to LLC or node.
    fn uses_map(&self, domain: Domain) -> bool {
        let fact = if domain == Domain::Llc { Fact::TaskLlc } else { Fact::TaskNode };
        self.has_domain(domain) || self.uses_fact(fact) || (domain == Domain::Llc && self.prefers_prev_llc())
    }

    /// The runtime-written map from CPU to LLC or node, and their count.
    pub(super) fn topology_inputs(&self) -> Vec<Global> {
        let mut out = Vec::new();
        for d in Domain::ALL.into_iter().filter(|d| self.uses_map(*d)) {
            let (word, what) = (d.word(), d.what());
            out.push(Global {
                comment: format!(
                    "/* The {what} of each CPU (0, 1, ...), set by the runtime from sysfs before load. */"
                ),
                decl: "const volatile u32".to_string(),
                name: format!("schedc_cpu_{word}[SCHEDC_MAX_CPUS]"),
                init: None,
            });
            out.push(Global {
                comment: format!("/* How many {what}s there are: one queue instance each. */"),
                decl: "const volatile u32".to_string(),
                name: format!("schedc_nr_{word}s"),
                init: Some("1".to_string()),
            });
        }
        out
    }

    /// `schedc_llc_of(cpu)`: the instance a CPU serves and fills.
    pub(super) fn topology_helpers(&self) -> Vec<Function> {
        let mut out: Vec<Function> = Domain::ALL
            .into_iter()
            .filter(|d| self.uses_map(*d))
            .map(|d| {
                let word = d.word();
                Function {
                    comment: format!("/* The {} of @cpu; 0 for a CPU out of range. */", d.what()),
                    signature: format!("static __always_inline u32 schedc_{word}_of(s32 cpu)"),
                    // No branch, which the verifier would walk on both
                    // sides at every use: the index is masked (which also
                    // bounds it for the verifier) and the entry read is
                    // kept only if the CPU is in range.
                    body: vec![
                        "\tu32 c = cpu;".to_string(),
                        "\t/* 0 - 1 (all ones) for a CPU in range; else below 2^32, whose top half is 0. */"
                            .to_string(),
                        "\tu64 in_range = (u64)(c / SCHEDC_MAX_CPUS) - 1;".to_string(),
                        String::new(),
                        "\t/* Else clang turns the test back into a branch. */".to_string(),
                        "\tSCHEDC_OPAQUE(in_range);".to_string(),
                        format!("\treturn schedc_cpu_{word}[c & (SCHEDC_MAX_CPUS - 1)] & (u32)(in_range >> 32);"),
                    ],
                    member: None,
                }
            })
            .collect();
        if self.prefers_prev_llc() {
            out.push(Function {
                comment: "/* `prev_llc`: an idle CPU @p may use in the last-level cache of @prev_cpu, claimed. */"
                    .to_string(),
                signature: "static __always_inline s32 schedc_idle_prev_llc(struct task_struct *p, s32 prev_cpu)"
                    .to_string(),
                body: [
                    "	u32 llc = schedc_llc_of(prev_cpu);",
                    "	s32 cpu;",
                    "",
                    "	bpf_for(cpu, 0, scx_bpf_nr_cpu_ids()) {",
                    "		if (schedc_llc_of(cpu) == llc && bpf_cpumask_test_cpu(cpu, p->cpus_ptr) &&",
                    "		    scx_bpf_test_and_clear_cpu_idle(cpu))",
                    "			return cpu;",
                    "	}",
                    "	return -1;",
                ]
                .map(String::from)
                .to_vec(),
                member: None,
            });
        }
        out
    }

    /// A helper of ops.init creating one instance of each per-LLC and
    /// per-node queue: its own function, so that its loop counters (`llc`,
    /// `node`) share no scope with the policy's initial values.
    pub(super) fn domain_queues_helper(&self) -> Option<Function> {
        let domains: Vec<Domain> = Domain::ALL.into_iter().filter(|d| self.has_domain(*d)).collect();
        if domains.is_empty() {
            return None;
        }
        let mut body = vec!["\ts32 err;".to_string()];
        body.extend(domains.iter().map(|d| format!("\ts32 {};", d.word())));
        body.push(String::new());
        for d in domains {
            let word = d.word();
            body.push(format!("\tbpf_for({word}, 0, schedc_nr_{word}s) {{"));
            for q in (0..self.model.queues.len()).filter(|q| self.model.queues[*q].placement == d.placement()) {
                let k = self.domain_rank(q);
                body.push(format!("\t\terr = scx_bpf_create_dsq({}({k}, {word}), -1);", d.dsq_macro()));
                body.push("\t\tif (err)".to_string());
                body.push("\t\t\treturn err;".to_string());
            }
            body.push("\t}".to_string());
        }
        body.push("\treturn 0;".to_string());
        Some(Function {
            comment: "/* ops.init: the per-LLC and per-node queues, one instance per LLC or node. */".to_string(),
            signature: "static __always_inline s32 schedc_create_domain_queues(void)".to_string(),
            body,
            member: None,
        })
    }

    /// Among the queues with the placement of queue `q`, its position.
    pub(super) fn domain_rank(&self, q: usize) -> usize {
        let placement = self.model.queues[q].placement;
        self.model.queues[..q].iter().filter(|other| other.placement == placement).count()
    }
}
