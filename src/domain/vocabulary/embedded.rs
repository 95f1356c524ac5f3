//! The vocabulary files embedded in the binary, and the one parsed instance.

use std::sync::LazyLock;

use super::{LoadError, Source, Vocabulary, VocabularyFile};
use crate::domain::codes::Field;

/// The embedded vocabulary files (see `data/vocabulary/README.md`).
pub fn embedded_files() -> Vec<VocabularyFile<'static>> {
    macro_rules! field_files {
        ($($code:literal),* $(,)?) => {
            vec![$(
                VocabularyFile {
                    name: concat!("fields/", $code, ".txt"),
                    field: Field::parse($code),
                    source: Source::Written,
                    text: include_str!(concat!("../../../data/vocabulary/fields/", $code, ".txt")),
                },
                VocabularyFile {
                    name: concat!("cedict/", $code, ".txt"),
                    field: Field::parse($code),
                    source: Source::Cedict,
                    text: include_str!(concat!("../../../data/vocabulary/cedict/", $code, ".txt")),
                },
            )*]
        };
    }
    let mut files = vec![VocabularyFile {
        name: "general.txt",
        field: None,
        source: Source::Written,
        text: include_str!("../../../data/vocabulary/general.txt"),
    }];
    files.extend(field_files!(
        "auto",
        "eit",
        "ic",
        "ai",
        "digital",
        "equipment",
        "aerospace",
        "rail",
        "biomed",
        "tcm",
        "materials",
        "energy",
        "eco",
        "agri",
        "food"
    ));
    files
}

static VOCABULARY: LazyLock<(Vocabulary, Vec<LoadError>)> =
    LazyLock::new(|| Vocabulary::load(&embedded_files()));

/// The embedded vocabulary, parsed on first use.
pub fn vocabulary() -> &'static Vocabulary {
    &VOCABULARY.0
}

/// The lines of the embedded vocabulary that could not be read (none, as a test checks).
pub fn load_errors() -> &'static [LoadError] {
    &VOCABULARY.1
}
