//! `infra/template.yaml` against the code and `docs/api.yaml`: fails when
//! a function crate under `functions/` has no Lambda in the template, when
//! a route of a crate's `routes()` is missing from the HTTP API or sends
//! its requests to another crate's Lambda, when the template routes
//! something no crate serves, or when `docs/api.yaml` and the template
//! disagree about the API (the runner's own routes, such as
//! `GET /api/health`, are not on the gateway). Also checks what the
//! binaries read from the template: the `KLUIS_*` variable names, the
//! policy JSON (every key known to `Policy`, valid with the defaults), the
//! table's TTL attribute and index, and the pages' CSP (the API's, plus
//! the transfer bucket for the presigned part uploads and downloads).
//!
//! `infra/check` runs cfn-lint, the SAM translation and checkov; this test
//! needs no Python.

#[allow(dead_code)]
#[path = "api_spec/spec.rs"]
mod spec;

use std::collections::{BTreeMap, BTreeSet};

use kluis_core::policy::Policy;
use kluis_function::Shared;
use kluis_http::Router;
use serde_norway::Value;

/// A route: upper-case method and path template.
type Route = (String, String);

/// The ports the routes are mounted over (any would do: only the table is read).
type P = kluis_core::service::testing::MemoryPorts;

/// Every crate under `functions/` and the routes its `routes()` mounts
/// (none for the scheduled `expire`). A new crate fails
/// [`every_function_crate_is_listed_here`] until it is added.
fn function_routes() -> BTreeMap<&'static str, BTreeSet<Route>> {
    let service = kluis_function::testing::service();
    let table = |router: Router| -> BTreeSet<Route> {
        router
            .templates()
            .map(|(method, path)| (method.as_str().to_owned(), path.to_owned()))
            .collect()
    };
    let s: &Shared<P> = &service;
    BTreeMap::from([
        ("sender", table(kluis_sender::routes::<P>(s))),
        ("verify", table(kluis_verify::routes::<P>(s))),
        ("recipients", table(kluis_recipients::routes::<P>(s))),
        ("files", table(kluis_files::routes::<P>(s))),
        ("password", table(kluis_password::routes::<P>(s))),
        ("transfer", table(kluis_transfer::routes::<P>(s))),
        ("retrieve", table(kluis_retrieve::routes::<P>(s))),
        ("reply", table(kluis_reply::routes::<P>(s))),
        ("manage", table(kluis_manage::routes::<P>(s))),
        ("expire", BTreeSet::new()),
    ])
}

fn workspace_file(relative: &str) -> String {
    let path = format!("{}/../../{relative}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{relative} is readable: {e}"))
}

/// The template, with CloudFormation's short-form tags (`!Ref`, `!Sub`, …)
/// kept as YAML tags.
struct Template(Value);

impl Template {
    fn load() -> Self {
        Self::parse(&workspace_file("infra/template.yaml"))
    }

    fn parse(text: &str) -> Self {
        Self(serde_norway::from_str(text).expect("infra/template.yaml is YAML"))
    }

    /// `(logical id, resource)` of every resource of type `kind`.
    fn resources(&self, kind: &str) -> Vec<(&str, &Value)> {
        let resources = self.0["Resources"].as_mapping().expect("Resources is a map");
        resources
            .iter()
            .filter(|(_, r)| r["Type"].as_str() == Some(kind))
            .map(|(id, r)| (id.as_str().expect("logical ids are strings"), r))
            .collect()
    }

    /// Each Lambda's logical id → the crate directory under `functions/` it is built from.
    fn functions(&self) -> BTreeMap<String, String> {
        self.resources("AWS::Serverless::Function")
            .into_iter()
            .map(|(id, function)| {
                assert_eq!(
                    function["Metadata"]["BuildMethod"].as_str(),
                    Some("rust-cargolambda"),
                    "{id} is built by cargo-lambda"
                );
                let code = function["Properties"]["CodeUri"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{id} has a CodeUri"));
                let crate_dir = code
                    .strip_prefix("../functions/")
                    .unwrap_or_else(|| panic!("{id}'s CodeUri {code} is a crate under functions/"));
                (id.to_owned(), crate_dir.to_owned())
            })
            .collect()
    }

    /// Each integration's logical id → the Lambda it invokes (`!GetAtt X.Arn`).
    fn integrations(&self) -> BTreeMap<String, String> {
        self.resources("AWS::ApiGatewayV2::Integration")
            .into_iter()
            .map(|(id, integration)| {
                let target = tagged(&integration["Properties"]["IntegrationUri"], "GetAtt")
                    .unwrap_or_else(|| panic!("{id}'s IntegrationUri is !GetAtt <Function>.Arn"));
                let function = target
                    .strip_suffix(".Arn")
                    .unwrap_or_else(|| panic!("{id} invokes a function's Arn"));
                (id.to_owned(), function.to_owned())
            })
            .collect()
    }

    /// Every route of the HTTP API → the crate whose Lambda serves it.
    fn routes(&self) -> BTreeMap<Route, String> {
        let (functions, integrations) = (self.functions(), self.integrations());
        let mut routes = BTreeMap::new();
        for (id, route) in self.resources("AWS::ApiGatewayV2::Route") {
            let key = route["Properties"]["RouteKey"].as_str().expect("a RouteKey");
            let (method, path) = key.split_once(' ').expect("RouteKey is 'METHOD /path'");
            let target = tagged(&route["Properties"]["Target"], "Sub")
                .unwrap_or_else(|| panic!("{id}'s Target is !Sub 'integrations/${{…}}'"));
            let integration = target
                .strip_prefix("integrations/${")
                .and_then(|rest| rest.strip_suffix('}'))
                .unwrap_or_else(|| panic!("{id}'s Target names an integration"));
            let function = integrations
                .get(integration)
                .unwrap_or_else(|| panic!("{id} targets {integration}, not an integration of the template"));
            let crate_dir = functions.get(function).unwrap_or_else(|| {
                panic!("{integration} invokes {function}, not a function of the template")
            });
            let previous = routes.insert((method.to_owned(), path.to_owned()), crate_dir.clone());
            assert!(previous.is_none(), "{key} is routed twice");
        }
        routes
    }
}

/// The string under a short-form tag such as `!GetAtt X.Arn`.
fn tagged<'a>(value: &'a Value, tag: &str) -> Option<&'a str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == tag => tagged.value.as_str(),
        _ => None,
    }
}

/// `docs/api.yaml`'s routes, the function routes of the code, and the
/// runner's own routes (in its table, from no function crate).
fn code_and_spec() -> (BTreeMap<Route, &'static str>, BTreeSet<Route>, BTreeSet<Route>) {
    let mut served = BTreeMap::new();
    for (crate_dir, routes) in function_routes() {
        for route in routes {
            let previous = served.insert(route.clone(), crate_dir);
            assert!(previous.is_none(), "{route:?} is mounted by two crates");
        }
    }
    let service = kluis_function::testing::service();
    let runner: BTreeSet<Route> = kluis_runner::routes::api::<P>(&service)
        .templates()
        .map(|(method, path)| (method.as_str().to_owned(), path.to_owned()))
        .collect();
    let runner_own = runner
        .iter()
        .filter(|route| !served.contains_key(*route))
        .cloned()
        .collect();
    (served, spec::Spec::load().operations(), runner_own)
}

/// Where the template and the code (and the spec) disagree; empty when they agree.
fn mismatches(template: &Template) -> Vec<String> {
    let (served, spec, runner_own) = code_and_spec();
    let routed = template.routes();
    let mut problems = Vec::new();
    for (route, crate_dir) in &served {
        match routed.get(route) {
            None => problems.push(format!(
                "{route:?} (functions/{crate_dir}) has no route in the template"
            )),
            Some(other) if other != crate_dir => problems.push(format!(
                "{route:?} is served by functions/{crate_dir} but the template sends it to functions/{other}"
            )),
            Some(_) => {}
        }
    }
    for (route, crate_dir) in &routed {
        if !served.contains_key(route) {
            problems.push(format!(
                "the template routes {route:?} to functions/{crate_dir}, which does not serve it"
            ));
        }
        if !spec.contains(route) {
            problems.push(format!(
                "the template routes {route:?}, which docs/api.yaml does not document"
            ));
        }
    }
    for route in &spec {
        if !routed.contains_key(route) && !runner_own.contains(route) {
            problems.push(format!(
                "docs/api.yaml documents {route:?}, which the template does not route"
            ));
        }
    }
    let crates: BTreeSet<String> = function_routes().keys().map(|c| (*c).to_owned()).collect();
    let functions: BTreeSet<String> = template.functions().into_values().collect();
    for missing in crates.difference(&functions) {
        problems.push(format!("functions/{missing} has no function in the template"));
    }
    for extra in functions.difference(&crates) {
        problems.push(format!(
            "the template builds functions/{extra}, which is not a function crate"
        ));
    }
    problems
}

#[test]
fn every_function_crate_is_listed_here() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../functions");
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir)
        .expect("functions/ is readable")
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    let listed: BTreeSet<String> = function_routes().keys().map(|c| (*c).to_owned()).collect();
    assert_eq!(on_disk, listed, "add the new crate to function_routes()");
}

#[test]
fn the_template_routes_every_api_operation_to_the_function_that_serves_it() {
    let problems = mismatches(&Template::load());
    assert!(
        problems.is_empty(),
        "infra/template.yaml:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn a_missing_or_misdirected_route_is_caught() {
    let text = workspace_file("infra/template.yaml");
    let route = "RouteKey: POST /api/retrieve/{id}/unlock";
    assert!(text.contains(route), "the mutation below must find its route");
    let without = text.replace(route, "RouteKey: POST /api/retrieve/{id}/unlocked");
    let problems = mismatches(&Template::parse(&without));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("/api/retrieve/{id}/unlock\")") && p.contains("no route")),
        "{problems:?}"
    );
    let target = "Target: !Sub 'integrations/${ManageIntegration}'";
    let misdirected = text.replacen(target, "Target: !Sub 'integrations/${RetrieveIntegration}'", 1);
    assert!(
        mismatches(&Template::parse(&misdirected))
            .iter()
            .any(|p| p.contains("the template sends it to functions/retrieve")),
        "a route sent to the wrong Lambda fails"
    );
}

#[test]
fn the_expiry_job_runs_on_a_schedule_and_nothing_else_does() {
    let template = Template::load();
    for (id, function) in template.resources("AWS::Serverless::Function") {
        let events = function["Properties"]["Events"].as_mapping();
        let scheduled = events.is_some_and(|e| e.values().any(|ev| ev["Type"].as_str() == Some("Schedule")));
        let is_expire = function["Properties"]["CodeUri"].as_str() == Some("../functions/expire");
        assert_eq!(scheduled, is_expire, "{id}: only expire runs on a schedule");
    }
}

#[test]
fn the_functions_get_the_variables_the_binaries_read() {
    let template = Template::load();
    let globals = &template.0["Globals"]["Function"];
    assert_eq!(globals["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(globals["Architectures"][0].as_str(), Some("arm64"));
    assert_eq!(globals["Handler"].as_str(), Some("bootstrap"));
    let variables = globals["Environment"]["Variables"]
        .as_mapping()
        .expect("Globals set the environment");
    let names: BTreeSet<&str> = variables.keys().filter_map(Value::as_str).collect();
    let read: BTreeSet<&str> = [
        kluis_function::settings::BASE_URL_VAR,
        kluis_function::settings::POLICY_VAR,
        kluis_function::settings::INTERNAL_DOMAINS_VAR,
        kluis_aws::config::TABLE_VAR,
        kluis_aws::config::BUCKET_VAR,
        kluis_aws::config::MAIL_FROM_VAR,
        "RUST_LOG",
    ]
    .into();
    assert_eq!(
        names, read,
        "the template sets exactly the variables the binaries read"
    );
}

#[test]
fn the_policy_variable_is_a_valid_policy_with_the_parameter_defaults() {
    let template = Template::load();
    let policy = tagged(
        &template.0["Globals"]["Function"]["Environment"]["Variables"][kluis_function::settings::POLICY_VAR],
        "Sub",
    )
    .expect("KLUIS_POLICY is a !Sub of the parameters");
    let mut json = policy.to_owned();
    for (name, parameter) in template.0["Parameters"].as_mapping().expect("parameters") {
        let name = name.as_str().expect("parameter names are strings");
        let default = match &parameter["Default"] {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => continue,
        };
        json = json.replace(&format!("${{{name}}}"), &default);
    }
    assert!(
        !json.contains("${"),
        "every parameter in KLUIS_POLICY has a default: {json}"
    );
    let mut parsed: Policy = serde_json::from_str(&json).expect("KLUIS_POLICY is a Policy (no unknown key)");
    let defaults = Policy::default();
    assert_eq!(
        parsed.max_retention_days, defaults.max_retention_days,
        "defaults match the core"
    );
    assert_eq!(parsed.default_retention_days, defaults.default_retention_days);
    assert_eq!(parsed.max_transfer_bytes, defaults.max_transfer_bytes);
    assert_eq!(parsed.max_recipients, defaults.max_recipients);
    assert_eq!(parsed.max_files, defaults.max_files);
    assert_eq!(parsed.unlock_attempts, defaults.unlock_attempts);
    assert_eq!(parsed.own_password, defaults.own_password);
    parsed.internal_domains = vec!["example.nl".to_owned()];
    parsed.validate().expect("the default policy is valid");
}

#[test]
fn the_table_has_the_adapters_ttl_attribute_and_purge_index() {
    use kluis_aws::dynamodb::table::{PK, PURGE_DUE, PURGE_INDEX, PURGE_PK, SK, TTL};
    let template = Template::load();
    let tables = template.resources("AWS::DynamoDB::Table");
    let [(_, table)] = tables.as_slice() else {
        panic!("one table")
    };
    let properties = &table["Properties"];
    assert_eq!(
        properties["TimeToLiveSpecification"]["AttributeName"].as_str(),
        Some(TTL)
    );
    assert_eq!(properties["KeySchema"][0]["AttributeName"].as_str(), Some(PK));
    assert_eq!(properties["KeySchema"][1]["AttributeName"].as_str(), Some(SK));
    let index = &properties["GlobalSecondaryIndexes"][0];
    assert_eq!(index["IndexName"].as_str(), Some(PURGE_INDEX));
    assert_eq!(index["KeySchema"][0]["AttributeName"].as_str(), Some(PURGE_PK));
    assert_eq!(index["KeySchema"][1]["AttributeName"].as_str(), Some(PURGE_DUE));
}

#[test]
fn the_pages_get_the_apis_content_security_policy_and_may_reach_the_bucket() {
    let template = Template::load();
    let policies = template.resources("AWS::CloudFront::ResponseHeadersPolicy");
    let [(_, headers)] = policies.as_slice() else {
        panic!("one response headers policy")
    };
    let csp = &headers["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"];
    let Value::Tagged(sub) = &csp["ContentSecurityPolicy"] else {
        panic!("the CSP is a !Sub [policy, {{Bucket: …}}]")
    };
    let template_csp = sub.value[0].as_str().expect("the policy text");
    let buckets = template.resources("AWS::S3::Bucket");
    let transfer = buckets
        .iter()
        .find(|(id, _)| *id == "TransferBucket")
        .expect("the transfer bucket");
    assert_eq!(
        sub.value[1]["Bucket"], transfer.1["Properties"]["BucketName"],
        "the CSP names the transfer bucket by the bucket's own name"
    );
    let directives = |policy: &str| -> BTreeSet<String> {
        policy
            .split(';')
            .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|d| !d.is_empty())
            .collect()
    };
    let mut expected = directives(kluis_http::response::CONTENT_SECURITY_POLICY);
    assert!(
        !expected.iter().any(|d| d.starts_with("connect-src")),
        "the API's policy now sets connect-src: merge it with the bucket's origin"
    );
    // The pages fetch the encrypted parts from the bucket by presigned URL.
    expected.insert("connect-src 'self' https://${Bucket}.s3.${AWS::Region}.${AWS::URLSuffix}".to_owned());
    assert_eq!(directives(template_csp), expected);
}
