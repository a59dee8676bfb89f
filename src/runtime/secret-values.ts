// Cold-start resolution of a built function's secrets (runs inside the Lambda bundle).

/** The one Secrets Manager call this needs: GetSecretValue's input and the part of its output read. */
export type GetSecretValue = (secretId: string) => Promise<{ SecretString?: string }>;

/** The variable listing a function's secrets: JSON, environment variable name → secret id. */
const SECRETS_ENV = "SWITCHBOARD_SECRETS";

let resolved: Promise<void> | undefined;

/**
 * GetSecretValue through the AWS SDK v3 client the Lambda Node.js runtime carries
 * (`@aws-sdk/client-secrets-manager`, left out of the bundle), one client per container.
 */
async function sdkGetSecretValue(): Promise<GetSecretValue> {
  // A variable specifier: the bundler leaves it to the runtime's copy of the SDK.
  const specifier = "@aws-sdk/client-secrets-manager";
  const sdk = (await import(specifier)) as {
    SecretsManagerClient: new (config: object) => { send(command: unknown): Promise<unknown> };
    GetSecretValueCommand: new (input: { SecretId: string }) => unknown;
  };
  const client = new sdk.SecretsManagerClient({});
  return async (secretId) =>
    (await client.send(new sdk.GetSecretValueCommand({ SecretId: secretId }))) as {
      SecretString?: string;
    };
}

/**
 * Put each secret named in `SWITCHBOARD_SECRETS` into `process.env`, read from Secrets Manager
 * once per container (cold start) and cached: later invocations wait for the same promise. A
 * failure is not cached (the next invocation tries again) and names the secret, never a value.
 *
 * @example
 * ```ts
 * await resolveSecrets(); // process.env.MONGODB_URI is set
 * ```
 */
export function resolveSecrets(
  env: NodeJS.ProcessEnv = process.env,
  getSecretValue?: GetSecretValue,
): Promise<void> {
  const listed = env[SECRETS_ENV];
  if (!listed) return Promise.resolve();
  resolved ??= (async () => {
    const ids = JSON.parse(listed) as Record<string, string>;
    const get = getSecretValue ?? (await sdkGetSecretValue());
    await Promise.all(
      Object.entries(ids).map(async ([name, id]) => {
        let value: string | undefined;
        try {
          value = (await get(id)).SecretString;
        } catch (error) {
          throw new Error(
            `secret ${name}: GetSecretValue ${id} failed: ${(error as Error).name ?? "Error"}: ${(error as Error).message}`,
          );
        }
        if (value === undefined) throw new Error(`secret ${name}: ${id} has no SecretString`);
        env[name] = value;
      }),
    );
  })().catch((error: unknown) => {
    resolved = undefined;
    throw error;
  });
  return resolved;
}

/** Forget the cached resolution (tests: a new "container"). */
export function resetSecrets(): void {
  resolved = undefined;
}
