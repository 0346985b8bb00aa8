use super::*;

fn res(group: &str, resource: &str, name: &str, namespace: &str) -> Target {
    Target::Resource {
        group: group.into(),
        version: "v1".into(),
        resource: resource.into(),
        subresource: String::new(),
        name: name.into(),
        namespace: namespace.into(),
    }
}

#[test]
fn request_info_like_the_apiserver() {
    assert_eq!(parse_target("/api"), Target::NonResource);
    assert_eq!(
        parse_target("/apis/rbac.authorization.k8s.io/v1"),
        Target::NonResource
    );
    assert_eq!(
        parse_target("/api/v1/namespaces"),
        res("", "namespaces", "", "")
    );
    assert_eq!(
        parse_target("/api/v1/namespaces/kube-system"),
        res("", "namespaces", "kube-system", "kube-system")
    );
    assert_eq!(
        parse_target("/api/v1/namespaces/kube-system/configmaps/aws-auth"),
        res("", "configmaps", "aws-auth", "kube-system")
    );
    assert_eq!(
        parse_target("/api/v1/configmaps"),
        res("", "configmaps", "", "")
    );
    assert_eq!(
        parse_target("/apis/rbac.authorization.k8s.io/v1/clusterroles/view"),
        res("rbac.authorization.k8s.io", "clusterroles", "view", "")
    );
}
