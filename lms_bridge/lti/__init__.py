"""LTI 1.3 for lms_bridge: pylti1p3 2.0.0 behind a thin layer that closes its known gaps.

Modules, in the order a launch meets them:

* `login_state`: the OIDC state as a signed token (nothing stored between login and launch),
  the nonce and the Platform Storage binding derived from it.
* `launch`: pylti1p3's login and launch subclassed (`ToolLogin`, `HardenedLaunch`): state bound
  to the browser, nonce used once, (iss, client_id) registrations, aud/azp, deployments,
  Partitioned cookies.
* `id_token`: signature and claim checks (exp/iat/nonce/sub required, leeway both ways).
* `platform_keys`: platform JWKS cache, refetched (rate-limited) on an unknown kid.
* `toolconf`: pylti1p3's ToolConf over the database, keyed by (issuer, client_id).
* `claims`: LaunchContext from the claims; roles from context membership only.
* `state`: where verified launches live (SQL or Redis), with their nonces.
* `keys`: the tool's RSA keys: rotation, retirement, JWKS.
* `http`: httpx with timeouts, also behind pylti1p3's `requests` calls.
* `registration`: Canvas developer-key JSON, LTI Dynamic Registration, the setup sheet.
* `tool`: `LtiTool` ties them together for the web app; `cli`: `lms-bridge lti ...`.
* `errors`: every refusal as a 4xx with a stable code.

The HTTP endpoints are in lms_bridge.web.lti_views; pages read the launch through
lms_bridge.web.session.
"""
