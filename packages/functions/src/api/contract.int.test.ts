import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hc } from "hono/client";
import { Cancelled, ErrorBody, ID_PATTERN, JobList, JobView, OutputLinks, RUNG_NAMES } from "@videoforge/core/contract";
import { UploadCreated, UploadParts, UploadState } from "@videoforge/core/contract";
import { JOB_STATUSES } from "@videoforge/core/status";
import type { Api } from "./client.ts";
import { startTestCloud, type TestCloud } from "../../../../test/helpers/cloud.ts";

/**
 * One contract from server to clients, checked over real HTTP against a real local cloud:
 * the OpenAPI document the routes publish, the 400s their schemas give, and the answers of a
 * typed client (`hc<Api>`) parsed with the very schemas the dashboard and the CLI are typed by.
 */
let cloud: TestCloud;

beforeAll(async () => {
  cloud = await startTestCloud();
});
afterAll(async () => {
  await cloud?.stop();
});

type Json = Record<string, unknown>;
interface Operation {
  security?: unknown[];
  parameters?: { name: string; in: string; required?: boolean; schema?: Json }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Json }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Json }> }>;
}
interface Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; securitySchemes: Record<string, Json> };
}

async function openapi(): Promise<Document> {
  // no token: the document is public, like /health
  const res = await fetch(`${cloud.api.url}/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/application\/json/);
  return (await res.json()) as Document;
}

/** Every `$ref` anywhere in `node`. */
function refs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) refs(item, found);
  else if (node && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") found.push(value);
      else refs(value, found);
    }
  }
  return found;
}

const jsonSchema = (op: Operation | undefined, status: string) =>
  op?.responses[status]?.content?.["application/json"]?.schema;

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3 document whose references all resolve", async () => {
    const doc = await openapi();

    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: "videoforge", version: expect.any(String) });
    expect(doc.components.securitySchemes.bearer).toEqual({ type: "http", scheme: "bearer" });
    const dangling = refs(doc).filter((ref) => !doc.components.schemas[ref.replace("#/components/schemas/", "")]);
    expect(dangling).toEqual([]);
    for (const [path, operations] of Object.entries(doc.paths)) {
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(operations)) {
        expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(0);
        for (const response of Object.values(op.responses)) expect(response.description).toBeTruthy();
        // every {name} in the path is a required path parameter
        const declared = (op.parameters ?? []).filter((p) => p.in === "path" && p.required).map((p) => p.name);
        expect(declared.sort(), `${method} ${path}`).toEqual([...templated].sort());
      }
    }
  });

  it("every route it says needs the token answers 401 without one, and every other route exists", async () => {
    const doc = await openapi();
    let guarded = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      // a well-shaped id for every {param}: the token is checked before anything is looked up
      const url = cloud.api.url + path.replace(/\{\w+\}/g, "abcdef123456");
      for (const [method, op] of Object.entries(operations)) {
        const body = ["post", "patch", "put"].includes(method) ? "{}" : undefined;
        const headers = body ? { "content-type": "application/json" } : undefined;
        const res = await fetch(url, { method: method.toUpperCase(), headers, body });
        if (op.security?.length) {
          guarded++;
          expect(res.status, `${method} ${path} without a token`).toBe(401);
        } else {
          // a public route may well answer 404 for a made-up id, but never the router's "No route"
          const text = await res.text();
          expect(text, `${method} ${path} is documented, so it exists`).not.toMatch(/No route/);
        }
      }
    }
    expect(guarded).toBeGreaterThanOrEqual(15);
  });

  it("describes uploads and jobs with the domain's schemas", async () => {
    const { paths, components } = await openapi();
    const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

    // POST /uploads: the body it takes and what it answers, errors included
    const create = paths["/uploads"]?.post;
    expect(create?.requestBody?.required).toBe(true);
    expect(create?.requestBody?.content["application/json"]?.schema).toEqual(ref("CreateUpload"));
    expect(jsonSchema(create, "201")).toEqual(ref("UploadCreated"));
    for (const status of ["400", "401", "415", "429"]) expect(jsonSchema(create, status), status).toEqual(ref("Error"));

    // the jobs
    expect(jsonSchema(paths["/jobs"]?.get, "200")).toEqual(ref("JobList"));
    expect(paths["/jobs"]?.get?.responses["304"]).toBeDefined();
    const job = paths["/jobs/{id}"];
    expect(jsonSchema(job?.get, "200")).toEqual(ref("JobView"));
    expect(jsonSchema(job?.get, "404")).toEqual(ref("Error"));
    expect(jsonSchema(job?.delete, "202")).toBeDefined();
    expect(jsonSchema(job?.delete, "409")).toEqual(ref("Error"));
    expect(job?.get?.parameters?.find((p) => p.name === "id")?.schema).toMatchObject({ pattern: ID_PATTERN.source });
    expect(job?.get?.parameters?.find((p) => p.name === "chunksVersion")).toMatchObject({
      in: "query",
      required: false,
    });
    expect(jsonSchema(paths["/jobs/{id}/outputs"]?.get, "200")).toEqual(ref("OutputLinks"));
    expect(paths["/jobs/{id}/hls/master.m3u8"]?.get?.responses["200"]?.content).toHaveProperty([
      "application/vnd.apple.mpegurl",
    ]);

    // the statuses and rung names are the domain's lists, not copies
    const summary = components.schemas.JobSummary as { properties: { status: Json } };
    expect(summary.properties.status).toMatchObject({ enum: [...JOB_STATUSES] });
    const upload = components.schemas.CreateUpload as { properties: { ladder: { items: Json } }; required: string[] };
    expect(upload.properties.ladder.items).toMatchObject({ enum: RUNG_NAMES });
    expect(upload.required.sort()).toEqual(["name", "size"]);
    const view = components.schemas.JobView as { properties: Record<string, unknown> };
    expect(view.properties).toMatchObject({
      job: ref("JobSummary"),
      chunks: expect.anything(),
      timelineNext: expect.anything(),
    });
  });
});

describe("input that fails a route's schema", () => {
  async function send(method: string, path: string, body?: string, contentType = "application/json") {
    const res = await fetch(cloud.api.url + path, {
      method,
      headers: {
        authorization: `Bearer ${cloud.token}`,
        ...(body === undefined ? {} : { "content-type": contentType }),
      },
      body,
    });
    return { status: res.status, body: ErrorBody.parse(await res.json()) };
  }

  it.each([
    {
      case: "a body field of the wrong type",
      method: "POST",
      path: "/uploads",
      body: { name: "a.mp4", size: "big" },
      field: /→ at size/,
    },
    {
      case: "an unknown rung",
      method: "POST",
      path: "/uploads",
      body: { name: "a.mp4", size: 9, ladder: ["9p"] },
      field: /ladder\[0\]/,
    },
    {
      case: "a nested body field",
      method: "POST",
      path: "/uploads/abcdef123456/complete",
      body: { parts: [{ partNumber: 0, etag: '"x"' }] },
      field: /parts\[0\]\.partNumber/,
    },
    {
      case: "a query number that is not one",
      method: "GET",
      path: "/uploads/abcdef123456/parts?from=abc",
      field: /→ at from/,
    },
    {
      case: "a query over its bound",
      method: "GET",
      path: "/jobs/abcdef123456/timeline?limit=501",
      field: /at most 500[\s\S]*→ at limit/,
    },
  ])("$case is a 400 invalid_request naming the field", async ({ method, path, body, field }) => {
    const reply = await send(method, path, body === undefined ? undefined : JSON.stringify(body));

    expect(reply.status, JSON.stringify(reply.body)).toBe(400);
    expect(reply.body.error.code).toBe("invalid_request");
    expect(reply.body.error.message).toMatch(field);
  });

  it("a path id of the wrong shape is a 404 not_found naming it, like an unknown one", async () => {
    const reply = await send("GET", "/uploads/bad!id/parts");

    expect(reply.status).toBe(404);
    expect(reply.body.error).toEqual({ code: "not_found", message: "No upload bad!id." });
  });

  it("a body that is not JSON is a 415 unsupported_media_type", async () => {
    const reply = await send("POST", "/uploads", "name=a.mp4&size=9", "application/x-www-form-urlencoded");

    expect(reply.status).toBe(415);
    expect(reply.body.error.code).toBe("unsupported_media_type");
  });
});

describe("the typed client", () => {
  it("calls every job and upload route, and each answer parses with the contract's schema", async () => {
    // arrange: a client built from the API's type, as the CLI and the dashboard build theirs
    const api = hc<Api>(cloud.api.url, { headers: { authorization: `Bearer ${cloud.token}` } });

    // act + assert: one upload, read back every way the clients read it
    const created = await api.uploads.$post({ json: { name: "typed.mp4", size: 1000, ladder: ["240p"] } });
    expect(created.status).toBe(201);
    const upload = UploadCreated.parse(await created.json());
    const param = { id: upload.jobId };

    const state = await api.uploads[":id"].$get({ param: { id: upload.uploadId }, query: {} });
    expect(UploadState.parse(await state.json())).toMatchObject({ status: "OPEN", jobStatus: "UPLOADING", size: 1000 });
    const parts = await api.uploads[":id"].parts.$get({ param: { id: upload.uploadId }, query: { from: "1" } });
    expect(UploadParts.parse(await parts.json()).parts.map((p) => p.partNumber)).toEqual([1]);

    const page = await api.jobs[":id"].$get({ param, query: {} });
    expect(page.status).toBe(200);
    const view = JobView.parse(await page.json());
    expect(view.job).toMatchObject({ jobId: upload.jobId, status: "UPLOADING", name: "typed.mp4", ladder: ["240p"] });
    expect(view.chunks).toEqual([]);

    // the chunk list the client holds is not sent again while it is unchanged
    const known = await api.jobs[":id"].$get({ param, query: { chunksVersion: view.chunksVersion } });
    expect(JobView.parse(await known.json()).chunks).toBeNull();

    const list = JobList.parse(await (await api.jobs.$get()).json());
    expect(list.jobs.map((j) => j.jobId)).toContain(upload.jobId);
    const links = OutputLinks.parse(await (await api.jobs[":id"].outputs.$get({ param })).json());
    expect(links).toEqual({
      status: "UPLOADING",
      outputs: [],
      audio: [],
      captions: [],
      hls: null,
      dash: null,
      poster: null,
    });

    const cancelled = await api.jobs[":id"].$delete({ param });
    expect(cancelled.status).toBe(202);
    expect(Cancelled.parse(await cancelled.json())).toEqual({ jobId: upload.jobId, status: "CANCELLED" });

    // an error answer is typed too: the contract's error body
    const gone = await api.jobs[":id"].$get({ param: { id: "unknownjob000000" }, query: {} });
    expect(gone.status).toBe(404);
    expect(ErrorBody.parse(await gone.json()).error.code).toBe("not_found");
  });
});
