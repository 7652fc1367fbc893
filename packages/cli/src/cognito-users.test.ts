import { describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { AdminCreateUserCommand, CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { addCognitoUser } from "./cognito-users.ts";

describe("videoforge users add EMAIL --aws", () => {
  it("creates the user with AdminCreateUser: verified email, invitation by email", async () => {
    const client = new CognitoIdentityProviderClient({
      region: "eu-west-1",
      credentials: { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "secret" },
    });
    const cognito = mockClient(client);
    cognito
      .on(AdminCreateUserCommand)
      .resolves({ User: { Username: "0c7f1e2a-1111-4222-8333-944445555666", UserStatus: "FORCE_CHANGE_PASSWORD" } });

    const created = await addCognitoUser(client, "eu-west-1_AbCdEf123", "ada@example.com");

    expect(created).toEqual({ username: "0c7f1e2a-1111-4222-8333-944445555666", status: "FORCE_CHANGE_PASSWORD" });
    const calls = cognito.commandCalls(AdminCreateUserCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      UserPoolId: "eu-west-1_AbCdEf123",
      Username: "ada@example.com",
      UserAttributes: [
        { Name: "email", Value: "ada@example.com" },
        { Name: "email_verified", Value: "true" },
      ],
      DesiredDeliveryMediums: ["EMAIL"],
    });
    expect(cognito.calls()).toHaveLength(1);
  });

  it.each([
    ["not-an-email", "eu-west-1_AbCdEf123", /not an email address/],
    ["ada@example.com", "AbCdEf123", /not a user pool id/],
  ])("refuses %s in pool %s before calling Cognito", async (email, pool, message) => {
    const client = new CognitoIdentityProviderClient({
      region: "eu-west-1",
      credentials: { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "secret" },
    });
    const cognito = mockClient(client);
    await expect(addCognitoUser(client, pool, email)).rejects.toThrow(message);
    expect(cognito.calls()).toHaveLength(0);
  });
});
