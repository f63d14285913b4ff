//! The three-way merge of upgrades on any base, team version and new render: it never panics,
//! and when the team changed nothing, the new render is what comes out.
#![no_main]
use arbitrary::Arbitrary;
use idp_core::scaffold::{Format, Labels, MergeKeys, merge_file};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    kind: u8,
    base: String,
    ours: String,
    theirs: String,
    team_changed_nothing: bool,
}

fuzz_target!(|i: Input| {
    let path = ["a.yaml", "a.json", "a.toml", "a.txt"][(i.kind % 4) as usize];
    let labels = Labels {
        ours: "yours",
        theirs: "platform",
    };
    let ours = if i.team_changed_nothing {
        &i.base
    } else {
        &i.ours
    };
    let m = merge_file(
        path,
        &i.base,
        ours,
        &i.theirs,
        &labels,
        &MergeKeys::default(),
    );
    if i.team_changed_nothing {
        assert_eq!(m.conflicts, 0, "{path}: nothing to conflict with");
        match Format::of(path) {
            Some(f) if m.by_keys => assert_eq!(f.parse(&m.content), f.parse(&i.theirs)),
            _ => assert_eq!(m.content, i.theirs, "{path}"),
        }
    }
});
