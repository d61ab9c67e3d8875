//! Queues with one instance per last-level cache or per NUMA node.
//!
//! Which LLC and node a CPU belongs to is not something a BPF program can
//! ask every kernel, so the runtime writes it into two read-only arrays
//! before load, from sysfs. Loaded by another loader the arrays stay zero:
//! every CPU is then in LLC 0 and node 0, and such a queue behaves as one
//! shared queue, which is still a correct scheduler.

use super::Lowering;
use crate::ir::{Function, Global};
use crate::model::Placement;

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
    pub(super) fn has_domain(&self, domain: Domain) -> bool {
        self.model.queues.iter().any(|q| q.placement == domain.placement())
    }

    /// The runtime-written map from CPU to LLC or node, and their count.
    pub(super) fn topology_inputs(&self) -> Vec<Global> {
        let mut out = Vec::new();
        for d in Domain::ALL.into_iter().filter(|d| self.has_domain(*d)) {
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
        Domain::ALL
            .into_iter()
            .filter(|d| self.has_domain(*d))
            .map(|d| {
                let word = d.word();
                Function {
                    comment: format!("/* The {} of @cpu; 0 for a CPU out of range. */", d.what()),
                    signature: format!("static __always_inline u32 schedc_{word}_of(s32 cpu)"),
                    body: vec![
                        "\tif (cpu < 0 || cpu >= SCHEDC_MAX_CPUS)".to_string(),
                        "\t\treturn 0;".to_string(),
                        format!("\treturn schedc_cpu_{word}[cpu];"),
                    ],
                    member: None,
                }
            })
            .collect()
    }

    /// ops.init lines creating one instance of each such queue per LLC or node.
    pub(super) fn create_domain_queues(&self, body: &mut Vec<String>) {
        for d in Domain::ALL {
            let queues: Vec<usize> =
                (0..self.model.queues.len()).filter(|q| self.model.queues[*q].placement == d.placement()).collect();
            if queues.is_empty() {
                continue;
            }
            let word = d.word();
            body.push(format!("\tbpf_for({word}, 0, schedc_nr_{word}s) {{"));
            for q in queues {
                let k = self.domain_rank(q);
                body.push(format!("\t\terr = scx_bpf_create_dsq({}({k}, {word}), -1);", d.dsq_macro()));
                body.push("\t\tif (err)".to_string());
                body.push("\t\t\treturn err;".to_string());
            }
            body.push("\t}".to_string());
        }
    }

    /// Among the queues with the placement of queue `q`, its position.
    pub(super) fn domain_rank(&self, q: usize) -> usize {
        let placement = self.model.queues[q].placement;
        self.model.queues[..q].iter().filter(|other| other.placement == placement).count()
    }
}
