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
    "running",
    "args",
    "class",
    "ctx",
    "license",
];

/// Words with a meaning in the policy language itself.
const LANGUAGE: &[&str] = &[
    "task", "system", "event", "queue", "none", "elapsed", "kick", "min", "max", "clamp", "ewma", "uint", "duration",
    "time", "default", "found", "starve", "after", "charge", "lag",
];

/// Whether `name` starts like a kernel or generated symbol.
pub fn reserved_prefix(name: &str) -> bool {
    ["schedc_", "scx_", "bpf_", "_"].iter().any(|p| name.starts_with(p))
}

/// Why `name` cannot name something in a policy, if it cannot.
pub fn reserved(name: &str) -> Option<&'static str> {
    if reserved_prefix(name) {
        Some("names starting with `schedc_`, `scx_`, `bpf_` or `_` are kept for generated and kernel symbols")
    } else if name.chars().any(|c| c.is_ascii_uppercase()) {
        Some("names are written in lower case; upper-case C names are kept for macros such as DSQ_NAME and CLASS_NAME")
    } else if LANGUAGE.contains(&name) {
        Some("it is a word of the policy language")
    } else if C_WORDS.contains(&name) {
        Some("it is a C keyword or type name, and policy names become C identifiers")
    } else if GENERATED.contains(&name) {
        Some("the generated C uses it for its own variables")
    } else if name.len() > 64 {
        Some("names are at most 64 characters long")
    } else {
        None
    }
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
        assert!(reserved("slice_max").is_none());
    }
}
