//! CPU sets (`cpuset NAME = 0-3, 6`): a bitmap for `CPU in NAME`, and for a
//! set an idle pick uses (`any in NAME`, `-> Q idle in NAME`), a kernel
//! cpumask kept in a map value (a kptr lives only there), filled by ops.init.
//! A dynamic set's bitmap is writable, and `NAME = first(N)` rewrites both.

use super::Lowering;
use crate::ir::{Field, Function, Global};
use crate::model::CpuSet;
use schedc_abi::CpuSetParam;

impl Lowering<'_> {
    /// The bitmap's C name.
    fn cpuset_bits(set: &CpuSet) -> String {
        format!("schedc_cpuset_{}", set.name)
    }

    /// How many 64-bit words hold the set's highest CPU; a tunable or
    /// dynamic set has room for every CPU schedc numbers, whatever its
    /// default.
    fn cpuset_words(set: &CpuSet) -> usize {
        if set.doc.is_some() || set.dynamic {
            return CpuSetParam::WORDS;
        }
        set.ranges.iter().map(|&(_, hi)| hi as usize / 64 + 1).max().unwrap_or(1)
    }

    /// `CPU in SET` as C; `cpu` is a C expression of an int CPU.
    pub(super) fn in_cpuset(&self, set: usize, cpu: &str) -> String {
        self.in_cpuset_named(&self.model.cpusets[set], cpu)
    }

    fn in_cpuset_named(&self, set: &CpuSet, cpu: &str) -> String {
        format!("schedc_cpuset_has({}, {}, {cpu})", Self::cpuset_bits(set), Self::cpuset_words(set))
    }

    /// The bitmaps of the sets a condition tests, as read-only globals.
    pub(super) fn cpuset_globals(&self) -> Vec<Global> {
        self.model
            .cpusets
            .iter()
            .filter(|s| s.tested || s.doc.is_some() || s.assigned)
            .map(|s| {
                let mut words = vec![0u64; Self::cpuset_words(s)];
                for &(lo, hi) in &s.ranges {
                    for cpu in lo..=hi {
                        words[cpu as usize / 64] |= 1 << (cpu % 64);
                    }
                }
                let init = bitmap_init(&words);
                let (decl, what) = match s.doc {
                    Some(_) => ("const volatile u64", "`schedc run --set` writes them before load"),
                    None if s.dynamic => ("u64", "as at load; `first(N)` rewrites them"),
                    None => ("static const u64", "fixed"),
                };
                Global {
                    comment: format!(
                        "{}\n/* Its CPUs, bit N of word N / 64 for CPU N ({what}). */",
                        self.comment(s.origin)
                    ),
                    decl: decl.to_string(),
                    name: format!("{}[{}]", Self::cpuset_bits(s), words.len()),
                    init: Some(init),
                }
            })
            .collect()
    }

    /// The fields of `struct schedc_cpusets`: one cpumask per picked set.
    pub(super) fn cpuset_masks(&self) -> Vec<Field> {
        self.model
            .cpusets
            .iter()
            .filter(|s| s.picked)
            .map(|s| Field {
                comment: self.comment(s.origin),
                decl: "struct bpf_cpumask __kptr *".to_string(),
                name: s.name.clone(),
            })
            .collect()
    }

    /// `schedc_first_cpus_NAME` per dynamic set a rule rewrites,
    /// `schedc_idle_in_NAME` per picked set, and `schedc_cpusets_init`.
    pub(super) fn cpuset_helpers(&self) -> Vec<Function> {
        let mut helpers: Vec<Function> =
            self.model.cpusets.iter().filter(|s| s.assigned).map(|s| self.first_cpus_helper(s)).collect();
        helpers.extend(self.cpuset_pick_helpers());
        helpers
    }

    /// `NAME = first(N)`: CPUs 0 to N - 1 in the set, every other CPU out,
    /// in the bitmap and, for a picked set, in its kernel cpumask.
    fn first_cpus_helper(&self, s: &CpuSet) -> Function {
        let bits = Self::cpuset_bits(s);
        let mut body = vec![];
        if s.picked {
            body.push("\tstruct schedc_cpusets *sets;".to_string());
            body.push("\tstruct bpf_cpumask *mask;".to_string());
            body.push("\tu32 zero = 0;".to_string());
        }
        body.extend([
            "\ts32 nr = scx_bpf_nr_cpu_ids();".to_string(),
            format!("\ts32 {};", if s.picked { "word, cpu" } else { "word" }),
            String::new(),
            "\tif (n < 0)".to_string(),
            "\t\tn = 0;".to_string(),
            "\tif (n > nr)".to_string(),
            "\t\tn = nr;".to_string(),
            format!("\t/* The bitmap `CPU in {}` reads, a word of 64 CPUs at a time. */", s.name),
            format!("\tbpf_for(word, 0, {}) {{", Self::cpuset_words(s)),
            "\t\ts64 low = (s64)word * 64;".to_string(),
            String::new(),
            "\t\tif (n >= low + 64)".to_string(),
            format!("\t\t\t{bits}[word] = ~0ULL;"),
            "\t\telse if (n <= low)".to_string(),
            format!("\t\t\t{bits}[word] = 0;"),
            "\t\telse".to_string(),
            format!("\t\t\t{bits}[word] = (1ULL << (n - low)) - 1;"),
            "\t}".to_string(),
        ]);
        if s.picked {
            body.extend([
                "\t/*".to_string(),
                "\t * The cpumask idle picks use, read under an RCU lock of its own: the".to_string(),
                "\t * timer's callback counts as sleepable on 6.12 when ops.init arms it.".to_string(),
                "\t */".to_string(),
                "\tsets = bpf_map_lookup_elem(&schedc_cpusets, &zero);".to_string(),
                "\tif (!sets)".to_string(),
                "\t\treturn;".to_string(),
                "\tbpf_rcu_read_lock();".to_string(),
                format!("\tmask = sets->{};", s.name),
                "\tif (mask) {".to_string(),
                "\t\tbpf_for(cpu, 0, nr) {".to_string(),
                "\t\t\tif (cpu < n)".to_string(),
                "\t\t\t\tbpf_cpumask_set_cpu(cpu, mask);".to_string(),
                "\t\t\telse".to_string(),
                "\t\t\t\tbpf_cpumask_clear_cpu(cpu, mask);".to_string(),
                "\t\t}".to_string(),
                "\t}".to_string(),
                "\tbpf_rcu_read_unlock();".to_string(),
            ]);
        }
        Function {
            comment: format!(
                "/* `{} = first(N)`: CPUs 0 to @n - 1 (at most every CPU) join cpuset {}, the others leave it. */\n{}",
                s.name,
                s.name,
                self.comment(s.origin)
            ),
            signature: format!("static __always_inline void schedc_first_cpus_{}(s64 n)", s.name),
            body,
            member: None,
        }
    }

    /// `schedc_idle_in_NAME` per picked set, and `schedc_cpusets_init`.
    fn cpuset_pick_helpers(&self) -> Vec<Function> {
        let picked: Vec<&CpuSet> = self.model.cpusets.iter().filter(|s| s.picked).collect();
        if picked.is_empty() {
            return Vec::new();
        }
        let mut helpers: Vec<Function> = picked
            .iter()
            .map(|s| Function {
                comment: format!(
                    "/* An idle CPU @p may use among cpuset {}'s, claimed; -1 if none. */\n{}",
                    s.name,
                    self.comment(s.origin)
                ),
                signature: format!(
                    "static __always_inline s32 schedc_idle_in_{}(struct task_struct *p, u64 flags)",
                    s.name
                ),
                body: vec![
                    "\tstruct schedc_cpusets *sets;".to_string(),
                    "\tu32 zero = 0;".to_string(),
                    String::new(),
                    "\tsets = bpf_map_lookup_elem(&schedc_cpusets, &zero);".to_string(),
                    "\tif (!sets)".to_string(),
                    "\t\treturn -1;".to_string(),
                    format!("\treturn schedc_idle_in(p, (const struct cpumask *)sets->{}, flags);", s.name),
                ],
                member: None,
            })
            .collect();
        let mut body = vec![
            "\tstruct schedc_cpusets *sets;".to_string(),
            "\tstruct bpf_cpumask *mask;".to_string(),
            "\tu32 zero = 0;".to_string(),
            "\ts32 cpu;".to_string(),
            String::new(),
            "\tsets = bpf_map_lookup_elem(&schedc_cpusets, &zero);".to_string(),
            "\tif (!sets)".to_string(),
            "\t\treturn -ENOENT;".to_string(),
        ];
        for s in picked {
            body.push(format!("\t{}", self.comment(s.origin)));
            body.push("\tmask = bpf_cpumask_create();".to_string());
            body.push("\tif (!mask)".to_string());
            body.push("\t\treturn -ENOMEM;".to_string());
            if s.doc.is_some() {
                // Tunable: the bitmap the runtime wrote, not the default.
                body.push("\tbpf_for(cpu, 0, SCHEDC_MAX_CPUS)".to_string());
                body.push(format!("\t\tif ({})", self.in_cpuset_named(s, "cpu")));
                body.push("\t\t\tbpf_cpumask_set_cpu(cpu, mask);".to_string());
            } else {
                for &(lo, hi) in &s.ranges {
                    body.push(format!("\tbpf_for(cpu, {lo}, {})", hi + 1));
                    body.push("\t\tbpf_cpumask_set_cpu(cpu, mask);".to_string());
                }
            }
            body.push(format!("\tmask = bpf_kptr_xchg(&sets->{}, mask);", s.name));
            body.push("\tif (mask)".to_string());
            body.push("\t\tbpf_cpumask_release(mask);".to_string());
        }
        body.push("\treturn 0;".to_string());
        helpers.push(Function {
            comment: "/* The kernel cpumasks of the CPU sets idle picks use, made at load. */".to_string(),
            signature: "static s32 schedc_cpusets_init(void)".to_string(),
            body,
            member: None,
        });
        helpers
    }
}

/// A bitmap's initializer: `{ [0 ... 63] = W }` when every word is `W`,
/// else its words up to the last non-zero one (C zeroes the rest).
fn bitmap_init(words: &[u64]) -> String {
    if words.len() > 1 && words[0] != 0 && words.iter().all(|w| *w == words[0]) {
        return format!("{{ [0 ... {}] = {:#x} }}", words.len() - 1, words[0]);
    }
    let used = words.iter().rposition(|w| *w != 0).map_or(1, |last| last + 1);
    let shown: Vec<String> = words[..used].iter().map(|w| format!("{w:#x}")).collect();
    format!("{{ {} }}", shown.join(", "))
}
