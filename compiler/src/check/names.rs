//! Names a policy may not use, and suggestions for names it got wrong.

/// C keywords and common type names: a policy name becomes a C identifier.
const C_WORDS: &[&str] = &[
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "bool",
    "true",
    "false",
    "NULL",
    "u8",
    "u16",
    "u32",
    "u64",
    "s8",
    "s16",
    "s32",
    "s64",
    "asm",
    "typeof",
    "_Bool",
    "_Static_assert",
    "main",
];

/// Names the generated C itself uses for function parameters and locals.
const GENERATED: &[&str] = &[
    "p",
    "tctx",
    "cpu",
    "prev_cpu",
    "wake_flags",
    "enq_flags",
    "now",
    "dsq",
    "vtime",
    "ei",
    "prev",
    "runnable",
    "found",
    "slice",
    "floor",
    "err",
    "is_idle",
    "online",
    "moved",
    "nr_offline",
    "slot",
    "running",
    "args",
    "class",
    "ctx",
    "license",
    "deq_flags",
    "idle_cpu",
    "mask",
    "sets",
    "zero",
];

/// Lower-case macros of libbpf's headers, which the generated C includes:
/// a function of that name would be expanded as the macro.
const HEADER_MACROS: &[&str] = &["likely", "unlikely", "barrier", "barrier_var", "container_of", "offsetof"];

/// Kernel symbols the header declares under their own names (weak
/// per-CPU variables read for `event.hardirq` and `event.softirq`).
const KERNEL: &[&str] = &["pcpu_hot"];

/// Words with a meaning in the policy language itself.
const LANGUAGE: &[&str] = &[
    "task",
    "system",
    "event",
    "queue",
    "none",
    "elapsed",
    "kick",
    "min",
    "max",
    "clamp",
    "ewma",
    "log2",
    "uint",
    "duration",
    "time",
    "default",
    "found",
    "starve",
    "after",
    "charge",
    "lag",
    "local",
    "keep_running",
    "waker",
];

/// Whether `name` starts like a kernel or generated symbol.
pub fn reserved_prefix(name: &str) -> bool {
    ["schedc_", "scx_", "bpf_", "_"].iter().any(|p| name.starts_with(p))
}

/// Why `name` cannot name something in a policy, if it cannot: which
/// names are kept, and what for.
pub fn reserved(name: &str) -> Option<String> {
    let listed = |words: &[&str]| {
        let others: Vec<String> = words.iter().filter(|w| **w != name).map(|w| format!("`{w}`")).collect();
        others.join(", ")
    };
    Some(if reserved_prefix(name) {
        "names starting with `schedc_`, `scx_`, `bpf_` or `_` are kept for the symbols of schedc and the kernel"
            .to_string()
    } else if name.chars().any(|c| c.is_ascii_uppercase()) {
        "names are lower case: upper-case names are kept for the macros of the generated C, such as DSQ_NAME and CLASS_NAME".to_string()
    } else if LANGUAGE.contains(&name) {
        format!("`{name}` is a word of the policy language, as are {}", listed(LANGUAGE))
    } else if C_WORDS.contains(&name) {
        format!(
            "`{name}` is a C keyword or type, and policy names become C names: the words of C and the kernel's types ({}, ...) are kept",
            listed(&["int", "bool", "u64", "void", "struct", "return", "while", "main"])
        )
    } else if GENERATED.contains(&name) {
        format!("the generated C uses `{name}` for its own variables, as it does {}", listed(GENERATED))
    } else if HEADER_MACROS.contains(&name) {
        format!(
            "`{name}` is a macro of libbpf's headers, which the generated C includes, as are {}",
            listed(HEADER_MACROS)
        )
    } else if KERNEL.contains(&name) {
        format!("the generated C declares the kernel's per-CPU variable `{name}` under that name")
    } else if name.len() > 64 {
        "names are at most 64 characters long".to_string()
    } else {
        return None;
    })
}

/// A name like `name` that is not reserved, to suggest.
pub fn unreserved_like(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let stripped = lower.trim_start_matches('_');
    let candidates = [stripped.to_string(), format!("{stripped}_value"), format!("my_{stripped}")];
    candidates.into_iter().find(|c| !c.is_empty() && c.len() <= 64 && reserved(c).is_none())
}

/// The candidate closest to `name`, if one is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.len() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edits (insert, delete, replace, or swap two neighbours) from `a` to `b`:
/// a swap such as `nvcws` for `nvcsw` is the commonest typo, so it counts once.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // d[i][j]: distance between the first i chars of a and the first j of b.
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        assert_eq!(suggest("slice_mx", ["slice_max", "slice_min", "debug"]), Some("slice_max"));
        assert_eq!(suggest("zzz", ["slice_max"]), None);
        assert_eq!(suggest("nvcws", ["nvcsw", "weight"]), Some("nvcsw"));
    }

    #[test]
    fn reserves_c_and_generated_names() {
        assert!(reserved("int").is_some());
        assert!(reserved("schedc_x").is_some());
        assert!(reserved("tctx").is_some());
        assert!(reserved("pcpu_hot").is_some_and(|why| why.contains("kernel")));
        assert!(reserved("likely").is_some_and(|why| why.contains("macro")));
        assert!(reserved("idle_cpu").is_some());
        assert!(reserved("slice_max").is_none());
        assert!(reserved("slice").is_some_and(|why| why.contains("`floor`")), "the names kept with it are listed");
    }

    #[test]
    fn suggests_a_free_name_near_a_reserved_one() {
        assert_eq!(unreserved_like("Boost").as_deref(), Some("boost"));
        assert_eq!(unreserved_like("_weight").as_deref(), Some("weight"));
        assert_eq!(unreserved_like("slice").as_deref(), Some("slice_value"));
    }
}
