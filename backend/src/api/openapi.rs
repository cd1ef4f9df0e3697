//! The OpenAPI 3.1 document, generated from the same resource list the router is built
//! from, so the two cannot drift apart.

use axum::Json;
use serde_json::{json, Map, Value};

use super::crud::{collection_path, item_path};
use pf_data::models::visit_all;
use pf_data::resource::{
    FieldKind, FieldSpec, Resource, ResourceVisitor, DEFAULT_LIMIT, MAX_LIMIT,
};

pub async fn serve() -> Json<Value> {
    Json(document())
}

pub fn document() -> Value {
    let mut doc = Builder {
        paths: Map::new(),
        schemas: Map::new(),
    };
    doc.fixed_paths();
    super::ledger::openapi_paths(&mut doc.paths);
    super::imports::openapi_paths(&mut doc.paths);
    visit_all(&mut doc);
    doc.schemas.insert(
        "Error".into(),
        json!({"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["status", "code", "message"],
            "properties": {"status": {"type": "integer"}, "code": {"type": "string"}, "message": {"type": "string"}}}}}),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "personalfinance",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Decimals are JSON strings (exact). Timestamps are UTC, ISO 8601 without offset. \
                            Every route but /health needs `Authorization: Bearer <API_TOKEN>`."
        },
        "security": [{"bearer": []}],
        "paths": doc.paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": doc.schemas,
        }
    })
}

struct Builder {
    paths: Map<String, Value>,
    schemas: Map<String, Value>,
}

fn error_ref() -> Value {
    json!({"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

impl Builder {
    fn fixed_paths(&mut self) {
        self.paths.insert(
            "/health".into(),
            json!({"get": {"summary": "liveness and database reachability", "security": [],
                "responses": {"200": ok("alive", json!({"type": "object"})), "503": ok("database unreachable", json!({"type": "object"}))}}}),
        );
        self.paths.insert(
            "/health/data".into(),
            json!({"get": {"summary": "per-table counts, has_data, migrations, storage",
                "responses": {"200": ok("report", json!({"type": "object"})), "401": error_ref()}}}),
        );
        self.paths.insert(
            "/openapi.json".into(),
            json!({"get": {"summary": "this document", "responses": {"200": ok("OpenAPI document", json!({"type": "object"}))}}}),
        );
        // Admin-only: `Authorization: Bearer <ADMIN_TOKEN>` (the API token gets 403).
        let tar = |description: &str| json!({"description": description, "content": {"application/x-tar": {"schema": {"type": "string", "format": "binary"}}}});
        self.paths.insert(
            "/api/v1/admin/backup".into(),
            json!({"get": {"summary": "ADMIN_TOKEN only: a verified backup (manifest.json, then the snapshot) as a ustar archive",
                "responses": {"200": tar("the backup; header x-backup-id names it"), "401": error_ref(), "403": error_ref(), "503": error_ref()}}}),
        );
        self.paths.insert(
            "/api/v1/admin/restore".into(),
            json!({"post": {"summary": "ADMIN_TOKEN only: restore a backup archive (verified, safety backup first, one transaction)",
                "requestBody": {"required": true, "content": {"application/x-tar": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": {"200": ok("what was restored, and the safety backup's id", json!({"type": "object"})),
                    "401": error_ref(), "403": error_ref(), "422": error_ref()}}}),
        );
    }
}

fn field_schema(field: &FieldSpec) -> Value {
    let mut schema = match field.kind {
        FieldKind::Integer => json!({"type": "integer", "format": "int64"}),
        FieldKind::Decimal => {
            json!({"type": "string", "format": "decimal", "pattern": "^-?[0-9]+(\\.[0-9]+)?$",
            "description": "exact decimal as a string; up to 20 digits before and 18 after the point"})
        }
        FieldKind::Text => json!({"type": "string"}),
        FieldKind::Date => json!({"type": "string", "format": "date"}),
        FieldKind::DateTime => {
            json!({"type": "string", "description": "UTC timestamp, e.g. 2025-01-31T16:00:00"})
        }
        FieldKind::Bool => json!({"type": "boolean"}),
    };
    if field.nullable {
        let ty = schema["type"].clone();
        schema["type"] = json!([ty, "null"]);
    }
    schema
}

fn object_schema(fields: &[FieldSpec]) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|f| (f.name.to_owned(), field_schema(f)))
        .collect();
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| !f.nullable)
        .map(|f| f.name)
        .collect();
    json!({"type": "object", "additionalProperties": false, "properties": properties, "required": required})
}

impl ResourceVisitor for Builder {
    fn visit<R: Resource>(&mut self) {
        let table = R::TABLE;
        let input_name = format!("{table}_input");
        let input_fields = R::fields();
        let mut row_fields = vec![FieldSpec::of::<i64>("id")];
        row_fields.extend(input_fields.iter().copied());
        row_fields.push(FieldSpec::of::<chrono::NaiveDateTime>("created_at"));
        row_fields.push(FieldSpec::of::<chrono::NaiveDateTime>("updated_at"));
        self.schemas
            .insert(input_name.clone(), object_schema(&input_fields));
        self.schemas
            .insert(table.to_owned(), object_schema(&row_fields));

        let row = json!({"$ref": format!("#/components/schemas/{table}")});
        let body = json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{input_name}")}}}});
        let id_param = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64"}}]);
        let date_desc = format!("filters on {} (inclusive)", R::TIME_COLUMN);
        let list_params = json!([
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
            {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
            {"name": "from", "in": "query", "description": date_desc, "schema": {"type": "string", "format": "date"}},
            {"name": "to", "in": "query", "description": date_desc, "schema": {"type": "string", "format": "date"}},
        ]);
        let page = json!({"type": "object", "required": ["items", "total", "limit", "offset"], "properties": {
            "items": {"type": "array", "items": row}, "total": {"type": "integer"},
            "limit": {"type": "integer"}, "offset": {"type": "integer"}}});
        let errors = |codes: &[&str]| -> Map<String, Value> {
            codes.iter().map(|c| (c.to_string(), error_ref())).collect()
        };
        let with = |mut base: Map<String, Value>, code: &str, resp: Value| {
            base.insert(code.to_owned(), resp);
            Value::Object(base)
        };
        self.paths.insert(
            collection_path::<R>(),
            json!({
                "get": {"summary": format!("list {table}"), "tags": [table], "parameters": list_params,
                        "responses": with(errors(&["400", "401"]), "200", ok("a page", page))},
                "post": {"summary": format!("create a {table} row"), "tags": [table], "requestBody": body,
                         "responses": with(errors(&["400", "401", "409", "413", "415", "422"]), "201", ok("created", row.clone()))},
            }),
        );
        self.paths.insert(
            item_path::<R>(),
            json!({
                "get": {"summary": format!("get a {table} row"), "tags": [table], "parameters": id_param,
                        "responses": with(errors(&["400", "401", "404"]), "200", ok("the row", row.clone()))},
                "put": {"summary": format!("replace a {table} row"), "tags": [table], "parameters": id_param, "requestBody": body,
                        "responses": with(errors(&["400", "401", "404", "409", "413", "415", "422"]), "200", ok("the row", row))},
                "delete": {"summary": format!("delete a {table} row"), "tags": [table], "parameters": id_param,
                           "responses": with(errors(&["400", "401", "404", "409"]), "204", json!({"description": "deleted"}))},
            }),
        );
    }
}
