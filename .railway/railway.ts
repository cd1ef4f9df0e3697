/**
 * Railway infrastructure-as-code for personalfinance: the one Railway configuration of this
 * repository (Railway stopped reading railway.toml / railway.json on 2026-12-01).
 *
 * Only fields the IaC reference (docs.railway.com/infrastructure-as-code/reference) documents:
 * service `start`, `healthcheck`, `healthcheckTimeout`, `replicas`, `volumeMounts`, `env`;
 * `volume(name)`; `preserve()`. backend/tests/it/deploy.rs fails on any other field.
 *
 * What the reference has no field for, and where it went instead:
 *   - the builder / Dockerfile path: Railway uses the `Dockerfile` at the root of what
 *     `railway up` uploads (its Dockerfile docs);
 *   - a pre-deploy step: `backend serve` applies pending migrations (SQLite or PostgreSQL)
 *     under the migration lock before it listens, so the healthcheck passes only after them;
 *   - a restart policy: Railway's default applies (the guard's refusals exit non-zero).
 *
 * Applying it: `railway link`, `npm install --no-save railway@3.11.0` (the `railway/iac`
 * SDK), `railway config plan`, then `railway config apply`. Read the plan first: it must NOT
 * delete, detach or replace the volume (omitting a resource from this file deletes it, and
 * the volume holds the database). The deploy workflow runs
 * `railway config plan --detailed-exit-code` before `railway up` and stops on any drift.
 */
import { defineRailway, preserve, project, service, volume } from "railway/iac";

export default defineRailway(() => {
  /**
   * The SQLite database and its data marker live here. Railway mounts a volume only when the
   * app container starts (not during the build). One volume per service, one replica.
   */
  const data = volume("personalfinance-data");

  const backend = service("backend", {
    // No `source`: .github/workflows/deploy.yml deploys with `railway up` after a backup.
    // A GitHub source would deploy on every push without that backup.
    // Guard, then migrations under the migration lock, then listen (the Dockerfile's CMD too).
    start: "backend serve",
    // Public liveness + database reachable; traffic moves only once it answers.
    healthcheck: "/health",
    healthcheckTimeout: 300,
    replicas: 1,
    // The Dockerfile's data folder; DATABASE_PATH below names the file on it.
    volumeMounts: {
      "/app/data": data,
    },
    env: {
      DATABASE_PATH: "/app/data/personalfinance.db",
      // Railway mounts volumes owned by root; the image's user (uid 10001) could not write.
      RAILWAY_RUN_UID: "0",
      // Secrets: set once in Railway (dashboard or `railway variables --set`), never here.
      API_TOKEN: preserve(),
      ADMIN_TOKEN: preserve(),
      // For PostgreSQL instead of SQLite: declare `const db = postgres("Postgres")`, add it to
      // `resources`, and set `DATABASE_URL: db.env.DATABASE_URL` (it wins over DATABASE_PATH).
      // Move the data first (`cargo xtask transfer`) and keep the volume until verified.
    },
  });

  return project("personalfinance", {
    resources: [backend, data],
  });
});
