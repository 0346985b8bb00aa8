//! AWS partitions: which ones a principal ARN may name, their DNS suffixes, and the partition
//! a region belongs to.

/// Every partition a principal ARN may name. aws-iam-authenticator (`pkg/endpoints`) knows the
/// first seven; `aws-eusc` (AWS European Sovereign Cloud) is in the AWS SDKs' partition data.
pub const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// The DNS suffix of a partition's regional endpoints (`dnsSuffix` in the AWS SDKs' partition
/// data, e.g. aws-sdk-sts `endpoint_lib.rs`; the same suffixes as aws-iam-authenticator
/// `pkg/endpoints/partitions.go`).
pub fn dns_suffix(partition: &str) -> Option<&'static str> {
    Some(match partition {
        "aws" | "aws-us-gov" => "amazonaws.com",
        "aws-cn" => "amazonaws.com.cn",
        "aws-iso" => "c2s.ic.gov",
        "aws-iso-b" => "sc2s.sgov.gov",
        "aws-iso-e" => "cloud.adc-e.uk",
        "aws-iso-f" => "csp.hci.ic.gov",
        "aws-eusc" => "amazonaws.eu",
        _ => return None,
    })
}

/// The DNS suffix of a partition's dual-stack (IPv6) endpoints (`dualStackDnsSuffix` in the AWS
/// SDKs' partition data).
pub fn dual_stack_dns_suffix(partition: &str) -> Option<&'static str> {
    Some(match partition {
        "aws" | "aws-us-gov" => "api.aws",
        "aws-cn" => "api.amazonwebservices.com.cn",
        "aws-iso" => "api.aws.ic.gov",
        "aws-iso-b" => "api.aws.scloud",
        "aws-iso-e" => "api.cloud-aws.adc-e.uk",
        "aws-iso-f" => "api.aws.hci.ic.gov",
        "aws-eusc" => "api.amazonwebservices.eu",
        _ => return None,
    })
}

/// The partition a region belongs to, by the `regionRegex` of each partition in the AWS SDKs'
/// partition data (aws-sdk-sts `endpoint_lib.rs`):
///
/// | partition    | regions                                           |
/// |--------------|---------------------------------------------------|
/// | `aws`        | `(us\|eu\|ap\|sa\|ca\|me\|af\|il\|mx)-WORD-DIGITS` |
/// | `aws-cn`     | `cn-WORD-DIGITS`                                  |
/// | `aws-us-gov` | `us-gov-WORD-DIGITS`                              |
/// | `aws-iso`    | `us-iso-WORD-DIGITS`                              |
/// | `aws-iso-b`  | `us-isob-WORD-DIGITS`                             |
/// | `aws-iso-e`  | `eu-isoe-WORD-DIGITS`                             |
/// | `aws-iso-f`  | `us-isof-WORD-DIGITS`                             |
/// | `aws-eusc`   | `eusc-de-WORD-DIGITS`                             |
///
/// Regions of a known shape that do not exist yet (`us-north-9`) map to their partition, as in
/// the SDKs. Unlike the SDKs this does not fall back to `aws` for anything else, and it only
/// accepts lower-case ASCII letters and digits in the words (the SDK's `\w` also allows
/// upper case and `_`, which are never in a region name nor valid in its host names). The
/// `aws-global`-style pseudo regions are not regions and give `None`.
pub fn partition_for_region(region: &str) -> Option<&'static str> {
    let parts: Vec<&str> = region.split('-').collect();
    let word = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [area, middle, number] if word(middle) && digits(number) => match *area {
            "us" | "eu" | "ap" | "sa" | "ca" | "me" | "af" | "il" | "mx" => Some("aws"),
            "cn" => Some("aws-cn"),
            _ => None,
        },
        [area, kind, middle, number] if word(middle) && digits(number) => match (*area, *kind) {
            ("us", "gov") => Some("aws-us-gov"),
            ("us", "iso") => Some("aws-iso"),
            ("us", "isob") => Some("aws-iso-b"),
            ("eu", "isoe") => Some("aws-iso-e"),
            ("us", "isof") => Some("aws-iso-f"),
            ("eusc", "de") => Some("aws-eusc"),
            _ => None,
        },
        _ => None,
    }
}
