//! CVSS v4.0 scoring against published reference scores.

use bulwark_vulndb::cvss::{base_score_v4, score_v4, CvssError};

fn check(cases: &[(&str, f64)]) {
    for (v, want) in cases {
        let got = base_score_v4(v).unwrap_or_else(|e| panic!("{v}: {e}"));
        assert_eq!(got, *want, "{v}");
    }
}

/// FIRST's CVSS v4.0 User Guide (<https://www.first.org/cvss/v4.0/user-guide>), "CVSS-B Score:
/// 8.5" example. (The guide's CVE-2013-0375 example, `…/PR:L/UI:N/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N`
/// = 5.1, disagrees with the reference calculator data used here, which yields 5.3; not tested.)
#[test]
fn first_user_guide_examples() {
    check(&[(
        "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        8.5,
    )]);
}

/// Scores from FIRST's calculator (<https://www.first.org/cvss/calculator/4-0>), as recorded
/// vector-by-vector with calculator links in a public test suite found through code search.
#[test]
fn first_calculator_scores() {
    check(&[
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            9.3,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N",
            0.0,
        ),
        (
            "CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            7.5,
        ),
        (
            "CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            8.7,
        ),
        (
            "CVSS:4.0/AV:A/AC:H/AT:N/PR:H/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            7.3,
        ),
        (
            "CVSS:4.0/AV:L/AC:L/AT:N/PR:H/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            8.4,
        ),
        (
            "CVSS:4.0/AV:P/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            7.0,
        ),
        (
            "CVSS:4.0/AV:P/AC:H/AT:N/PR:H/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            5.4,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:L/VA:H/SC:N/SI:N/SA:N",
            8.8,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N",
            8.7,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N",
            6.9,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:H/SI:H/SA:H",
            10.0,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:L/SI:L/SA:L",
            9.3,
        ),
    ]);
}

/// RedHatProductSecurity/cvss `tests/vectors_simple4` @ 99d01937a7e0130f30893e6a405a37aea31d921c
/// (scores generated with the reference calculator); a sample needing interpolation.
#[test]
fn reference_implementation_vectors() {
    check(&[
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:H/VA:L/SC:N/SI:H/SA:L",
            9.2,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:H/SI:N/SA:L",
            7.8,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:H/SI:L/SA:H",
            7.9,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:L/VI:N/VA:N/SC:L/SI:N/SA:L",
            5.3,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            8.6,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:L/SC:N/SI:L/SA:N",
            7.1,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:A/VC:N/VI:H/VA:H/SC:N/SI:N/SA:L",
            6.9,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:P/VC:L/VI:L/VA:N/SC:L/SI:N/SA:N",
            4.8,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:N/SA:H",
            9.5,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:A/VC:N/VI:N/VA:N/SC:L/SI:N/SA:N",
            2.1,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:N/VC:N/VI:N/VA:N/SC:N/SI:L/SA:N",
            2.3,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:A/VC:N/VI:L/VA:L/SC:L/SI:N/SA:N",
            1.8,
        ),
        (
            "CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:A/VC:N/VI:L/VA:L/SC:H/SI:H/SA:L",
            5.0,
        ),
        (
            "CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:A/VC:N/VI:N/VA:N/SC:N/SI:H/SA:N",
            4.0,
        ),
        (
            "CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:L/VI:L/VA:H/SC:L/SI:N/SA:N",
            8.3,
        ),
        (
            "CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:N/VI:L/VA:N/SC:L/SI:H/SA:L",
            7.0,
        ),
    ]);
}

/// RedHatProductSecurity/cvss `tests/vectors_threat4` @ b02c410d963b5056b97fbb44b6393caeea7df575
/// (CVSS-BT).
#[test]
fn threat_vectors() {
    check(&[
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N/E:A",
            0.0,
        ),
        (
            "CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:A",
            7.3,
        ),
        (
            "CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:P",
            5.9,
        ),
        (
            "CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U",
            4.1,
        ),
    ]);
    assert_eq!(
        score_v4("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U")
            .unwrap()
            .nomenclature,
        "CVSS-BT"
    );
}

#[test]
fn not_defined_metrics_change_nothing() {
    let full =
        "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:X/CR:X/IR:X/AR:X/\
                MAV:X/MAC:X/MAT:X/MPR:X/MUI:X/MVC:X/MVI:X/MVA:X/MSC:X/MSI:X/MSA:X/S:X/AU:X/R:X/\
                V:X/RE:X/U:X";
    let c = score_v4(full).unwrap();
    assert_eq!(c.score, 8.5);
    assert_eq!(c.nomenclature, "CVSS-B");
    // Supplemental metrics do not change the score either.
    assert_eq!(
        base_score_v4(
            "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/S:P/AU:Y/U:Red"
        )
        .unwrap(),
        8.5
    );
}

#[test]
fn malformed_vectors_are_errors() {
    let base = "AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
    assert_eq!(base_score_v4(base), Err(CvssError::WrongVersion));
    assert_eq!(
        base_score_v4("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        Err(CvssError::WrongVersion)
    );
    assert_eq!(base_score_v4(""), Err(CvssError::WrongVersion));
    assert_eq!(base_score_v4("CVSS:4.0"), Err(CvssError::WrongVersion));
    assert!(matches!(
        base_score_v4("CVSS:4.0/"),
        Err(CvssError::Malformed(_))
    ));
    assert_eq!(
        base_score_v4("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N"),
        Err(CvssError::MissingMetric("SA"))
    );
    assert!(matches!(
        base_score_v4("CVSS:4.0/AV:X/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
        Err(CvssError::InvalidValue { .. })
    ));
    // S (Safety) is only valid for the modified subsequent-system metrics.
    assert!(matches!(
        base_score_v4("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N"),
        Err(CvssError::InvalidValue { .. })
    ));
    assert!(matches!(
        base_score_v4(&format!("CVSS:4.0/{base}/AV:L")),
        Err(CvssError::DuplicateMetric(_))
    ));
    assert!(matches!(
        base_score_v4(&format!("CVSS:4.0/{base}/ZZ:1")),
        Err(CvssError::UnknownMetric(_))
    ));
    assert!(matches!(
        base_score_v4(&format!("CVSS:4.0/{base}/E")),
        Err(CvssError::Malformed(_))
    ));
    assert!(matches!(
        base_score_v4(&format!("CVSS:4.0/{base}/")),
        Err(CvssError::Malformed(_))
    ));
}
