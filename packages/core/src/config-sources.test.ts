import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";
import { resourcesFromEnv, withLinkedResources } from "./config-sources.ts";

const links = {
  SST_RESOURCE_App: JSON.stringify({ name: "videoforge", stage: "prod" }),
  SST_RESOURCE_Table: JSON.stringify({ name: "videoforge-prod-JobTableTable-abc" }),
  SST_RESOURCE_Uploads: JSON.stringify({ name: "videoforge-prod-uploadsbucket-x1" }),
  SST_RESOURCE_Work: JSON.stringify({ name: "videoforge-prod-workbucket-x2" }),
  SST_RESOURCE_Outputs: JSON.stringify({ name: "videoforge-prod-outputsbucket-x3" }),
  SST_RESOURCE_Bus: JSON.stringify({ name: "videoforge-prod-EventBusBus-y" }),
};

describe("configuration from SST links", () => {
  it("reads table, buckets and bus from SST_RESOURCE_* variables (a Fargate task's links)", () => {
    const cfg = loadConfig({ ...links, AWS_REGION: "eu-west-1" });
    expect({
      table: cfg.table,
      buckets: cfg.buckets,
      bus: cfg.busName,
      region: cfg.region,
      endpoints: cfg.endpoints,
    }).toEqual({
      table: "videoforge-prod-JobTableTable-abc",
      buckets: {
        uploads: "videoforge-prod-uploadsbucket-x1",
        work: "videoforge-prod-workbucket-x2",
        outputs: "videoforge-prod-outputsbucket-x3",
      },
      bus: "videoforge-prod-EventBusBus-y",
      region: "eu-west-1",
      endpoints: { dynamodb: undefined, s3: undefined, events: undefined },
    });
  });

  it("takes links handed over by SST's Resource (a Lambda's encrypted links) and lets explicit variables win", () => {
    const env = withLinkedResources(
      { VIDEOFORGE_WORK_BUCKET: "my-work", VIDEOFORGE_TABLE: "" },
      { Table: { name: "t-from-link" }, Work: { name: "w-from-link" }, Bus: { arn: "no name here" } },
    );
    expect(env).toEqual({ VIDEOFORGE_TABLE: "t-from-link", VIDEOFORGE_WORK_BUCKET: "my-work" });
  });

  it("keeps the local defaults when nothing is linked, and fails loudly on a broken link", () => {
    expect(loadConfig({}).table).toBe("videoforge");
    expect(resourcesFromEnv({ PATH: "/bin" })).toEqual({});
    expect(() => loadConfig({ SST_RESOURCE_Table: "{not json" })).toThrow("SST_RESOURCE_Table is not JSON");
  });
});
