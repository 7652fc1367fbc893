import { AdminCreateUserCommand, type CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";

/**
 * `videoforge users add EMAIL --aws`: the first user (and every later one) of a deployed
 * stage, where self sign-up is off. Cognito creates the user with a verified email and
 * mails an invitation with a temporary password; the first sign-in through the hosted UI
 * asks for a new one.
 */
export async function addCognitoUser(
  client: CognitoIdentityProviderClient,
  userPoolId: string,
  email: string,
): Promise<{ username: string; status: string }> {
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new Error(`"${email}" is not an email address`);
  if (!/^[\w-]+_[0-9a-zA-Z]+$/.test(userPoolId))
    throw new Error(`"${userPoolId}" is not a user pool id (like eu-west-1_AbCdEf123; the stack's outputs name it)`);
  const res = await client.send(
    new AdminCreateUserCommand({
      UserPoolId: userPoolId,
      Username: email,
      UserAttributes: [
        { Name: "email", Value: email },
        { Name: "email_verified", Value: "true" },
      ],
      DesiredDeliveryMediums: ["EMAIL"],
    }),
  );
  return { username: res.User?.Username ?? email, status: res.User?.UserStatus ?? "FORCE_CHANGE_PASSWORD" };
}
