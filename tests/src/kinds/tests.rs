use super::*;

#[test]
fn human_duration_matches_apimachinery() {
    assert_eq!(human_duration(-5), "<invalid>");
    assert_eq!(human_duration(5), "5s");
    assert_eq!(human_duration(119), "119s");
    assert_eq!(human_duration(125), "2m5s");
    assert_eq!(human_duration(600), "10m");
    assert_eq!(human_duration(3 * 3600 + 60), "3h1m");
    assert_eq!(human_duration(10 * 3600), "10h");
    assert_eq!(human_duration(3 * 86400 + 3600), "3d1h");
}

#[test]
fn qualified_resource_names_group() {
    assert_eq!(
        Kind::find("", "v1", "configmaps")
            .unwrap()
            .qualified_resource(),
        "configmaps"
    );
    assert_eq!(
        Kind::find(RBAC, "v1", "clusterroles")
            .unwrap()
            .qualified_resource(),
        "clusterroles.rbac.authorization.k8s.io"
    );
}
