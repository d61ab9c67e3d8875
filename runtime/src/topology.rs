//! The machine's last-level caches and NUMA nodes, for queues with one
//! instance per LLC or node (`per_llc`, `per_node`).
//!
//! Objects with such queues have read-only arrays mapping each CPU to its
//! LLC or node (`schedc_cpu_llc`, `schedc_cpu_node`) and their counts
//! (`schedc_nr_llcs`, `schedc_nr_nodes`); the runtime fills them from sysfs
//! before load. Another loader leaves them at zero and one: every CPU is
//! then in LLC 0 and node 0, and each such queue acts as one shared queue.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use crate::scheduler::VarLoc;

const CPU_DIR: &str = "/sys/devices/system/cpu";
const NODE_DIR: &str = "/sys/devices/system/node";

/// The numbers in a sysfs CPU list such as `0-3,8,10-11`.
pub(crate) fn parse_cpu_list(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let mut ends = part.splitn(2, '-').map(|n| n.trim().parse::<usize>());
        match (ends.next(), ends.next()) {
            (Some(Ok(a)), None) => out.push(a),
            (Some(Ok(a)), Some(Ok(b))) if a <= b => out.extend(a..=b),
            _ => {}
        }
    }
    out
}

/// For each domain found, the CPUs in it, in order of their first CPU.
fn numbered(domains: Vec<Vec<usize>>) -> (Vec<u32>, u32) {
    let mut domains: Vec<Vec<usize>> = domains.into_iter().filter(|d| !d.is_empty()).collect();
    domains.sort();
    domains.dedup();
    let nr_cpus = domains.iter().flatten().max().map_or(0, |m| m + 1);
    let mut of_cpu = vec![0u32; nr_cpus];
    for (index, cpus) in domains.iter().enumerate() {
        for cpu in cpus {
            of_cpu[*cpu] = index as u32;
        }
    }
    (of_cpu, domains.len().max(1) as u32)
}

/// Each possible CPU's LLC (numbered 0, 1, ... by first CPU) and the count.
fn llcs() -> (Vec<u32>, u32) {
    let possible = fs::read_to_string(Path::new(CPU_DIR).join("possible")).unwrap_or_default();
    let groups = parse_cpu_list(&possible)
        .into_iter()
        .map(|cpu| {
            let list = Path::new(CPU_DIR).join(format!("cpu{cpu}/cache/index3/shared_cpu_list"));
            // No L3 (or no cache information): the CPU is an LLC of its own.
            fs::read_to_string(list).map(|t| parse_cpu_list(&t)).unwrap_or_else(|_| vec![cpu])
        })
        .collect();
    numbered(groups)
}

/// Each CPU's NUMA node (numbered 0, 1, ... by first CPU) and the count.
fn nodes() -> (Vec<u32>, u32) {
    let Ok(entries) = fs::read_dir(NODE_DIR) else { return (Vec::new(), 1) };
    let groups = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().strip_prefix("node").is_some_and(|n| n.parse::<u32>().is_ok()))
        .map(|e| fs::read_to_string(e.path().join("cpulist")).map(|t| parse_cpu_list(&t)).unwrap_or_default())
        .collect();
    numbered(groups)
}

/// The bytes to write into .rodata for the topology arrays the object has.
pub(crate) fn rodata(vars: &HashMap<String, VarLoc>) -> Vec<(VarLoc, Vec<u8>)> {
    let mut out = Vec::new();
    for (word, (of_cpu, count)) in [("llc", llcs as fn() -> _), ("node", nodes)].map(|(w, f)| (w, f())) {
        let (Some(array), Some(nr)) =
            (vars.get(&format!("schedc_cpu_{word}")), vars.get(&format!("schedc_nr_{word}s")))
        else {
            continue;
        };
        let cap = array.size / 4;
        let bytes: Vec<u8> = of_cpu.iter().take(cap).flat_map(|d| d.to_ne_bytes()).collect();
        out.push((array.clone(), bytes));
        out.push((nr.clone(), count.to_ne_bytes().to_vec()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_parse_ranges_and_singles() {
        assert_eq!(parse_cpu_list("0-3,8,10-11\n"), vec![0, 1, 2, 3, 8, 10, 11]);
        assert_eq!(parse_cpu_list(""), Vec::<usize>::new());
        assert_eq!(parse_cpu_list("5"), vec![5]);
    }

    #[test]
    fn domains_are_numbered_by_first_cpu() {
        let (of_cpu, count) = numbered(vec![vec![2, 3], vec![0, 1], vec![0, 1], vec![]]);
        assert_eq!(of_cpu, vec![0, 0, 1, 1]);
        assert_eq!(count, 2);
        assert_eq!(numbered(Vec::new()), (Vec::new(), 1));
    }
}
