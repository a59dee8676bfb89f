// biome-ignore-all lint/suspicious/noTemplateCurlyInString: selection expressions, written as API Gateway takes them
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Mapping } from "../../src/app/integration.js";
import {
  httpRequest,
  IntegrationTimeout,
  MAX_BACKEND_BYTES,
} from "../../src/integrations/http-request.js";
import { evaluateJsonPath } from "../../src/integrations/json-path.js";
import {
  mapRequest,
  mapResponse,
  selectIntegrationResponse,
  selectTemplateKey,
} from "../../src/integrations/mapping.js";
import { mapRequestParameters } from "../../src/integrations/request-parameters.js";
import { renderTemplate, vtlVariables } from "../../src/integrations/vtl-context.js";
import type { WebSocketEvent } from "../../src/runtime/events.js";

const event = {
  requestContext: {
    routeKey: "send",
    eventType: "MESSAGE",
    connectionId: "abc=",
    requestId: "req-1",
    authorizer: { principalId: "me", numKey: 1, boolKey: true },
  },
  isBase64Encoded: false,
} as unknown as WebSocketEvent;

const mapping = (over: Partial<Mapping> = {}): Mapping => ({
  requestTemplates: {},
  passthroughBehavior: "WHEN_NO_MATCH",
  requestParameters: {},
  responses: [],
  ...over,
});

describe("VTL variables", () => {
  const render = (template: string, body = "{}") =>
    renderTemplate(template, vtlVariables(body, event));

  it("$input: body, json, path (walkable), params", () => {
    const body = '{"a":{"b":[1,2,3]},"s":"x"}';
    expect(render("$input.body", body)).toBe(body);
    expect(render("$input.json('$.a')", body)).toBe('{"b":[1,2,3]}');
    expect(render("$input.json('$.s')", body)).toBe('"x"');
    expect(render("$input.path('$.a.b').size()", body)).toBe("3");
    expect(render("#foreach($n in $input.path('$.a.b'))$n;#end", body)).toBe("1;2;3;");
    expect(render("[$input.json('$.missing')]", body)).toBe("[]");
  });

  it("$context and stringified $context.authorizer values", () => {
    expect(render("$context.connectionId $context.routeKey $context.eventType")).toBe(
      "abc= send MESSAGE",
    );
    expect(render("$context.authorizer.numKey $context.authorizer.boolKey")).toBe("1 true");
  });

  it("$util: escapeJavaScript, parseJson, urlEncode/Decode, base64Encode/Decode", () => {
    expect(
      render(`$util.escapeJavaScript($input.path('$.t'))`, JSON.stringify({ t: `a"b'c\\d/e\nf` })),
    ).toBe(`a\\"b\\'c\\\\d\\/e\\nf`);
    expect(render("$util.parseJson('{\"k\":[4,5]}').k.get(1)")).toBe("5");
    expect(render("$util.urlEncode('a b&c')")).toBe("a+b%26c");
    expect(render("$util.urlDecode('a+b%26c')")).toBe("a b&c");
    expect(render("$util.base64Encode('hi')")).toBe("aGk=");
    expect(render("$util.base64Decode('aGk=')")).toBe("hi");
  });

  it("a template cannot change the next render's $util", () => {
    render("#set($util.escapeJavaScript = 'x')");
    expect(render("$util.escapeJavaScript('a/b')")).toBe("a\\/b");
  });
});

describe("JSONPath subset", () => {
  const doc = { a: [{ n: 1 }, { n: 2 }], "b c": true };
  it("selects names, indexes, quoted names and wildcards; nothing for what does not parse", () => {
    expect(evaluateJsonPath(doc, "$")).toBe(doc);
    expect(evaluateJsonPath(doc, "$.a[1].n")).toBe(2);
    expect(evaluateJsonPath(doc, "$['b c']")).toBe(true);
    expect(evaluateJsonPath(doc, "$.a[*].n")).toEqual([1, 2]);
    expect(evaluateJsonPath(doc, "$.a.constructor")).toBeUndefined();
    expect(evaluateJsonPath(doc, "$..n")).toBeUndefined();
    expect(evaluateJsonPath(doc, "a")).toBeUndefined();
  });
});

describe("template and integration response selection", () => {
  it("TemplateSelectionExpression: a body path, static text, \\$default", () => {
    expect(selectTemplateKey("${request.body.kind}", '{"kind":"x"}')).toBe("x");
    expect(selectTemplateKey("static", "{}")).toBe("static");
    expect(selectTemplateKey("\\$default", "{}")).toBe("$default");
    expect(selectTemplateKey(undefined, "{}")).toBe("$default");
    expect(
      selectTemplateKey("${integration.response.statuscode}", "{}", {
        status: 404,
        body: "",
        headers: {},
      }),
    ).toBe("404");
  });

  it("PassthroughBehavior: WHEN_NO_MATCH passes, WHEN_NO_TEMPLATES only without templates, NEVER refuses", () => {
    const frame = '{"kind":"other"}';
    const templates = { only: "{}" };
    const tse = "${request.body.kind}";
    expect(
      mapRequest(
        mapping({ requestTemplates: templates, templateSelectionExpression: tse }),
        event,
        frame,
      ),
    ).toEqual({ ok: true, body: frame });
    expect(mapRequest(mapping({ passthroughBehavior: "WHEN_NO_TEMPLATES" }), event, frame)).toEqual(
      { ok: true, body: frame },
    );
    expect(
      mapRequest(
        mapping({
          passthroughBehavior: "WHEN_NO_TEMPLATES",
          requestTemplates: templates,
          templateSelectionExpression: tse,
        }),
        event,
        frame,
      ).ok,
    ).toBe(false);
    expect(mapRequest(mapping({ passthroughBehavior: "NEVER" }), event, frame).ok).toBe(false);
  });

  it("integration responses: /pattern/ keys matched whole, else $default; none: nothing sent", () => {
    const responses = [
      { key: "$default", templates: {} },
      { key: "/4\\d\\d/", templates: {} },
      { key: "/bad/", templates: {} },
    ];
    expect(selectIntegrationResponse(responses, "404")?.key).toBe("/4\\d\\d/");
    expect(selectIntegrationResponse(responses, "4040")?.key).toBe("$default");
    expect(selectIntegrationResponse(responses, "a bad thing")?.key).toBe("$default");
    expect(selectIntegrationResponse(responses, undefined)?.key).toBe("$default");
    expect(
      mapResponse(mapping(), { status: 200, body: "x", headers: {} }, "200", event, "{}"),
    ).toBeUndefined();
    expect(
      mapResponse(
        mapping({ responses: [{ key: "$default", templates: {} }] }),
        { status: 200, body: "as is", headers: {} },
        "200",
        event,
        "{}",
      ),
    ).toBe("as is");
  });
});

describe("request parameters", () => {
  it("maps headers and query strings from the context, the body, literals; nothing for what is absent", () => {
    const mapped = mapRequestParameters(
      {
        "integration.request.header.X-Id": "context.connectionId",
        "integration.request.header.X-Lit": "'v'",
        "integration.request.querystring.room": "route.request.body.room",
        "integration.request.querystring.none": "route.request.querystring.none",
      },
      event,
      '{"room":"lobby"}',
    );
    expect(mapped).toEqual({
      headers: { "X-Id": "abc=", "X-Lit": "v" },
      querystring: { room: "lobby" },
    });
  });
});

describe("HTTP backend bounds (a local server)", () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/hang") return; // never answers
      if (req.url === "/big") {
        res.end(Buffer.alloc(MAX_BACKEND_BYTES + 1, 97));
        return;
      }
      res.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const none = { headers: {}, querystring: {} };

  it("gives up at the integration timeout", async () => {
    await expect(httpRequest("POST", `${base}/hang`, "", none, 200)).rejects.toBeInstanceOf(
      IntegrationTimeout,
    );
  });

  it("refuses an answer over the message limit", async () => {
    await expect(httpRequest("POST", `${base}/big`, "", none, 2000)).rejects.toThrow(
      /over 131072 bytes/,
    );
    expect((await httpRequest("POST", `${base}/ok`, "", none, 2000)).body).toBe("ok");
  });
});
