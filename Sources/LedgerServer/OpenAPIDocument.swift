/// The OpenAPI 3.1 document of `ledger serve`, served at /openapi.yaml. Generated from
/// docs/openapi.yaml by Tools/openapi.py; a test checks that the two are equal and that the
/// document lists exactly the server's routes.
enum OpenAPIDocument {
    static let yaml = #"""
        openapi: 3.1.0
        info:
          title: IncidentLedger
          version: "1"
          summary: A signed, append-only archive of attacks on health care, over HTTP (`ledger serve`).
          description: |
            Writes are DSSE envelopes signed offline with `ledger sign` (or `ledger append --server`): the
            signature is the authentication, and an envelope is admitted by exactly the rules of
            `ledger append --signed`. Concurrent posts share one transaction; a reply comes only after
            its entry is durable. Reads answer the bytes the command line writes offline: entry lines
            (docs/FORMAT.md §4), C2SP signed-note checkpoints (§7), proof files (§13), and the archive's
            views as `ledger show/history/list --json` and `ledger snapshot` print them. Every error is
            `{"error": {"code": ..., "message": ...}}` with the message the command line prints.
          license:
            name: See the project's README
        servers:
          - url: http://127.0.0.1:8080
        paths:
          /openapi.yaml:
            get:
              operationId: openapi
              summary: This document.
              responses:
                "200":
                  description: The OpenAPI document.
                  content:
                    application/yaml:
                      schema:
                        type: string
          /v1/log:
            get:
              operationId: log
              summary: The log's identity and current size.
              responses:
                "200":
                  description: Origin, genesis key id, tree size and root, latest signed checkpoint's size.
                  content:
                    application/json:
                      schema:
                        $ref: "#/components/schemas/Log"
                "400":
                  $ref: "#/components/responses/BadRequest"
          /v1/checkpoint:
            get:
              operationId: checkpoint
              summary: The latest signed checkpoint (a C2SP signed note), with its cosignatures.
              responses:
                "200":
                  description: The note, as `ledger checkpoint` stored it (docs/FORMAT.md §7).
                  content:
                    text/plain:
                      schema:
                        type: string
                "400":
                  $ref: "#/components/responses/BadRequest"
                "404":
                  $ref: "#/components/responses/NotFound"
          /v1/entries:
            get:
              operationId: entries
              summary: Entry lines by index range, as JSON Lines (at most 1,000 per request).
              parameters:
                - name: start
                  in: query
                  description: First index (default 0); 404 when it is not below the tree size.
                  schema:
                    type: integer
                    minimum: 0
                - name: end
                  in: query
                  description: One past the last index (default and upper bound start + 1,000, and the tree size).
                  schema:
                    type: integer
                    minimum: 0
              responses:
                "200":
                  description: One entry line (docs/FORMAT.md §4) per line, each ending in a newline; empty when end is not above start.
                  content:
                    application/jsonl:
                      schema:
                        type: string
                "400":
                  $ref: "#/components/responses/BadRequest"
                "404":
                  $ref: "#/components/responses/NotFound"
            post:
              operationId: append
              summary: Append one DSSE envelope signed offline.
              requestBody:
                required: true
                description: The envelope as `ledger sign` writes it (docs/FORMAT.md §3); at most the server's `maxBodyBytes` (1 MiB by default).
                content:
                  application/json:
                    schema:
                      $ref: "#/components/schemas/Envelope"
              responses:
                "201":
                  description: Appended; durable before this reply.
                  headers:
                    Location:
                      description: The entry's line, `/v1/entries?start=INDEX&end=INDEX+1`.
                      schema:
                        type: string
                  content:
                    application/json:
                      schema:
                        $ref: "#/components/schemas/Appended"
                "200":
                  description: The event id is already in the log with this same event; nothing was added.
                  content:
                    application/json:
                      schema:
                        $ref: "#/components/schemas/Appended"
                "400":
                  $ref: "#/components/responses/BadRequest"
                "403":
                  description: Refused because of the signer - unknown, revoked, lacking the event's role, a signature that does not verify, or an event of another ledger.
                  content:
                    application/json:
                      schema:
                        $ref: "#/components/schemas/Error"
                "405":
                  description: A read-only server (a mirror or replica).
                  content:
                    application/json:
                      schema:
                        $ref: "#/components/schemas/Error"
                "408":
                  description: The body did not arrive in time.
                  content:
                    application/json:
                      schema:
                        $ref: "#/components/schemas/Error"
                "409":
                  description: A stale `expects` (re-read the subject and sign again), or an event id used for another event.
                  content:
                    application/json:
                      schema:
                        $ref: "#/components/schemas/Error"
                "413":
                  description: The body is over the server's limit.
                  content:
                    application/json:
                      schema:
                        $ref: "#/components/schemas/Error"
                "415":
                  description: Not sent as application/json.
                  content:
                    application/json:
                      schema:
                        $ref: "#/components/schemas/Error"
                "422":
                  description: Refused by an archive rule (docs/EVENTS.md) - well-formed, but not allowed in the archive's current state.
                  content:
                    application/json:
                      schema:
                        $ref: "#/components/schemas/Error"
                "503":
                  $ref: "#/components/responses/Unavailable"
          /v1/proofs/inclusion:
            get:
              operationId: inclusionProof
              summary: The inclusion proof file of an entry against a signed checkpoint (as `ledger prove inclusion`).
              parameters:
                - name: index
                  in: query
                  required: true
                  schema:
                    type: integer
                    minimum: 0
                - name: size
                  in: query
                  description: Tree size of the signed checkpoint (default the latest).
                  schema:
                    type: integer
                    minimum: 0
              responses:
                "200":
                  description: The proof file (docs/FORMAT.md §13).
                  content:
                    text/plain:
                      schema:
                        type: string
                "400":
                  $ref: "#/components/responses/BadRequest"
                "404":
                  $ref: "#/components/responses/NotFound"
          /v1/proofs/consistency:
            get:
              operationId: consistencyProof
              summary: The consistency proof file between two signed checkpoints (as `ledger prove consistency`).
              parameters:
                - name: from
                  in: query
                  required: true
                  schema:
                    type: integer
                    minimum: 0
                - name: to
                  in: query
                  description: Tree size of the newer signed checkpoint (default the latest).
                  schema:
                    type: integer
                    minimum: 0
              responses:
                "200":
                  description: The proof file (docs/FORMAT.md §13).
                  content:
                    text/plain:
                      schema:
                        type: string
                "400":
                  $ref: "#/components/responses/BadRequest"
                "404":
                  $ref: "#/components/responses/NotFound"
          /v1/incidents:
            get:
              operationId: incidents
              summary: Incidents matching the filters of `ledger list`, now or as of a moment; one canonical state per line, in id order.
              parameters:
                - name: occurredFrom
                  in: query
                  description: Incidents that may have occurred on or after this day (YYYY, YYYY-MM or YYYY-MM-DD).
                  schema:
                    type: string
                - name: occurredTo
                  in: query
                  description: Incidents that may have occurred on or before this day.
                  schema:
                    type: string
                - name: place
                  in: query
                  description: Governorate, district or town (exact name).
                  schema:
                    type: string
                - name: facility
                  in: query
                  description: A facility id - incidents that hit it.
                  schema:
                    type: string
                - name: perpetrator
                  in: query
                  description: An actor id - incidents where an asserting claim or the archive's assessment names it.
                  schema:
                    type: string
                - name: status
                  in: query
                  schema:
                    type: string
                    enum: [active, merged, retracted]
                - name: certainty
                  in: query
                  schema:
                    type: string
                    enum: [rumor, possible, probable, confirmed]
                - name: verification
                  in: query
                  schema:
                    type: string
                    enum: [unverified, in-review, verified, disputed]
                - $ref: "#/components/parameters/asOf"
                - $ref: "#/components/parameters/atSize"
              responses:
                "200":
                  description: JSON Lines, as `ledger list --json`.
                  content:
                    application/jsonl:
                      schema:
                        type: string
                "400":
                  $ref: "#/components/responses/BadRequest"
          /v1/entities/{id}:
            get:
              operationId: entity
              summary: One entity now or as of a moment, as `ledger show --json` (a merged incident resolves to the one that absorbed it).
              parameters:
                - $ref: "#/components/parameters/id"
                - $ref: "#/components/parameters/asOf"
                - $ref: "#/components/parameters/atSize"
              responses:
                "200":
                  description: The entity's view (canonical JSON).
                  content:
                    application/json:
                      schema:
                        $ref: "#/components/schemas/EntityView"
                "400":
                  $ref: "#/components/responses/BadRequest"
                "404":
                  $ref: "#/components/responses/NotFound"
          /v1/entities/{id}/history:
            get:
              operationId: history
              summary: Every revision of an entity, field by field, as `ledger history --json`.
              parameters:
                - $ref: "#/components/parameters/id"
              responses:
                "200":
                  description: One revision per line.
                  content:
                    application/jsonl:
                      schema:
                        type: string
                "400":
                  $ref: "#/components/responses/BadRequest"
                "404":
                  $ref: "#/components/responses/NotFound"
          /v1/snapshot:
            get:
              operationId: snapshot
              summary: The whole archive now or as of a moment, as `ledger snapshot` writes it (docs/EVENTS.md §6).
              parameters:
                - $ref: "#/components/parameters/asOf"
                - $ref: "#/components/parameters/atSize"
              responses:
                "200":
                  description: The snapshot; the same moment always gives the same bytes.
                  headers:
                    X-Tree-Size:
                      description: The tree size the snapshot belongs to.
                      schema:
                        type: string
                    X-Content-SHA256:
                      description: Hex SHA-256 of the body (what `ledger snapshot` prints).
                      schema:
                        type: string
                  content:
                    application/json:
                      schema:
                        type: object
                "400":
                  $ref: "#/components/responses/BadRequest"
          /tlog/checkpoint:
            get:
              operationId: tlogCheckpoint
              summary: C2SP tlog-tiles - the latest signed checkpoint (the same note as /v1/checkpoint, not cached).
              responses:
                "200":
                  description: The signed note.
                  content:
                    text/plain:
                      schema:
                        type: string
                "400":
                  $ref: "#/components/responses/BadRequest"
                "404":
                  $ref: "#/components/responses/NotFound"
          /tlog/tile/{level}/{index}:
            get:
              operationId: tlogHashTile
              summary: C2SP tlog-tiles - a hash tile, 256 hashes (or W with .p/W) of tree level 8 x level, immutable.
              description: |
                The index is written in groups of three digits, every group but the last prefixed with `x`
                (tile 1234067 is `x001/x234/067`), so it may span several path elements; a partial tile adds
                `.p/W` (1 <= W <= 255) to the last group. Only the canonical spelling is served.
              parameters:
                - $ref: "#/components/parameters/tileLevel"
                - $ref: "#/components/parameters/tileIndex"
              responses:
                "200":
                  description: The concatenated 32-byte hashes.
                  headers:
                    Cache-Control:
                      description: public, max-age=31536000, immutable
                      schema:
                        type: string
                  content:
                    application/octet-stream:
                      schema:
                        type: string
                        format: binary
                "400":
                  $ref: "#/components/responses/BadRequest"
                "404":
                  $ref: "#/components/responses/NotFound"
          /tlog/tile/entries/{index}:
            get:
              operationId: tlogEntryBundle
              summary: C2SP tlog-tiles - an entry bundle, 256 entry lines (or W with .p/W), each after its length as a big-endian uint16, immutable.
              description: An entry line longer than 65,535 bytes cannot be framed; its bundle is answered 404 (code tooLong) and the entry is read from /v1/entries.
              parameters:
                - $ref: "#/components/parameters/tileIndex"
              responses:
                "200":
                  description: The bundle.
                  headers:
                    Cache-Control:
                      description: public, max-age=31536000, immutable
                      schema:
                        type: string
                  content:
                    application/octet-stream:
                      schema:
                        type: string
                        format: binary
                "400":
                  $ref: "#/components/responses/BadRequest"
                "404":
                  $ref: "#/components/responses/NotFound"
          /:
            get:
              operationId: home
              summary: The web archive's front page - a redirect to /incidents.
              responses:
                "303":
                  description: See /incidents.
          /static/style.css:
            get:
              operationId: stylesheet
              summary: The web archive's style sheet.
              responses:
                "200":
                  description: CSS.
                  content:
                    text/css:
                      schema:
                        type: string
          /static/verify.js:
            get:
              operationId: verifyScript
              summary: The script an incident page runs to check its entries' signatures and inclusion proofs against the latest checkpoint with WebCrypto (docs/SERVER.md).
              responses:
                "200":
                  description: JavaScript.
                  content:
                    text/javascript:
                      schema:
                        type: string
          /incidents:
            get:
              operationId: incidentsPage
              summary: The web archive - incidents in a table with the list filters, sortable and paged, now or as of a day (HTML).
              parameters:
                - {name: place, in: query, schema: {type: string}}
                - {name: perpetrator, in: query, schema: {type: string}}
                - {name: facility, in: query, schema: {type: string}}
                - {name: occurredFrom, in: query, schema: {type: string}}
                - {name: occurredTo, in: query, schema: {type: string}}
                - {name: status, in: query, schema: {type: string, enum: ["", active, merged, retracted]}}
                - {name: sort, in: query, schema: {type: string, enum: [occurred, title]}}
                - {name: page, in: query, schema: {type: integer, minimum: 1, maximum: 1000000}}
                - {name: asOf, in: query, description: "A day (YYYY-MM-DD, its start in UTC) or an RFC 3339 UTC time that has passed.", schema: {type: string}}
                - {name: atSize, in: query, schema: {type: string}}
              responses:
                "200":
                  $ref: "#/components/responses/Page"
                "400":
                  $ref: "#/components/responses/PageRefused"
          /incidents/{name}:
            get:
              operationId: incidentPage
              summary: The web archive - one incident now or as of a day (HTML); places at town or district precision only.
              parameters:
                - $ref: "#/components/parameters/incidentName"
                - {name: asOf, in: query, schema: {type: string}}
                - {name: atSize, in: query, schema: {type: string}}
              responses:
                "200":
                  $ref: "#/components/responses/Page"
                "400":
                  $ref: "#/components/responses/PageRefused"
                "404":
                  $ref: "#/components/responses/PageRefused"
          /incidents/{name}/history:
            get:
              operationId: historyPage
              summary: The web archive - every signed change of an incident, field by field (HTML).
              parameters:
                - $ref: "#/components/parameters/incidentName"
              responses:
                "200":
                  $ref: "#/components/responses/Page"
                "400":
                  $ref: "#/components/responses/PageRefused"
                "404":
                  $ref: "#/components/responses/PageRefused"
          /facilities:
            get:
              operationId: facilitiesPage
              summary: The web archive - every facility, now or as of a day (HTML).
              parameters:
                - {name: asOf, in: query, schema: {type: string}}
                - {name: atSize, in: query, schema: {type: string}}
              responses:
                "200":
                  $ref: "#/components/responses/Page"
                "400":
                  $ref: "#/components/responses/PageRefused"
          /facilities/{name}:
            get:
              operationId: facilityPage
              summary: The web archive - one facility, its names, aliases and every recorded attack on it, now or as of a day (HTML); never its location.
              parameters:
                - $ref: "#/components/parameters/incidentName"
                - {name: asOf, in: query, schema: {type: string}}
                - {name: atSize, in: query, schema: {type: string}}
              responses:
                "200":
                  $ref: "#/components/responses/Page"
                "400":
                  $ref: "#/components/responses/PageRefused"
                "404":
                  $ref: "#/components/responses/PageRefused"
          /actors:
            get:
              operationId: actorsPage
              summary: The web archive - every actor, now or as of a day (HTML).
              parameters:
                - {name: asOf, in: query, schema: {type: string}}
                - {name: atSize, in: query, schema: {type: string}}
              responses:
                "200":
                  $ref: "#/components/responses/Page"
                "400":
                  $ref: "#/components/responses/PageRefused"
          /actors/{name}:
            get:
              operationId: actorPage
              summary: The web archive - one actor, the incidents the archive attributes to it, the claims it made and those naming it, and the counts attributing attacks to it (HTML).
              parameters:
                - $ref: "#/components/parameters/incidentName"
                - {name: asOf, in: query, schema: {type: string}}
                - {name: atSize, in: query, schema: {type: string}}
              responses:
                "200":
                  $ref: "#/components/responses/Page"
                "400":
                  $ref: "#/components/responses/PageRefused"
                "404":
                  $ref: "#/components/responses/PageRefused"
          /sources:
            get:
              operationId: sourcesPage
              summary: The web archive - every source, now or as of a day (HTML).
              parameters:
                - {name: asOf, in: query, schema: {type: string}}
                - {name: atSize, in: query, schema: {type: string}}
              responses:
                "200":
                  $ref: "#/components/responses/Page"
                "400":
                  $ref: "#/components/responses/PageRefused"
          /sources/{name}:
            get:
              operationId: sourcePage
              summary: The web archive - one source, the incidents citing it, the claims, casualty figures and counts it gives (HTML).
              parameters:
                - $ref: "#/components/parameters/incidentName"
                - {name: asOf, in: query, schema: {type: string}}
                - {name: atSize, in: query, schema: {type: string}}
              responses:
                "200":
                  $ref: "#/components/responses/Page"
                "400":
                  $ref: "#/components/responses/PageRefused"
                "404":
                  $ref: "#/components/responses/PageRefused"
          /aggregates:
            get:
              operationId: aggregatesPage
              summary: The web archive - monitoring groups' counts, each as its source gave it, never as incidents (HTML).
              parameters:
                - {name: asOf, in: query, schema: {type: string}}
                - {name: atSize, in: query, schema: {type: string}}
              responses:
                "200":
                  $ref: "#/components/responses/Page"
                "400":
                  $ref: "#/components/responses/PageRefused"
          /aggregates/{name}:
            get:
              operationId: aggregatePage
              summary: The web archive - one count, its source, period and the incidents known to be among those counted (HTML).
              parameters:
                - $ref: "#/components/parameters/incidentName"
                - {name: asOf, in: query, schema: {type: string}}
                - {name: atSize, in: query, schema: {type: string}}
              responses:
                "200":
                  $ref: "#/components/responses/Page"
                "400":
                  $ref: "#/components/responses/PageRefused"
                "404":
                  $ref: "#/components/responses/PageRefused"
          /charts:
            get:
              operationId: chartsPage
              summary: The web archive - incidents per month by assessed perpetrator and a map at public precision, drawn as SVG on the server (HTML).
              parameters:
                - {name: asOf, in: query, schema: {type: string}}
                - {name: atSize, in: query, schema: {type: string}}
              responses:
                "200":
                  $ref: "#/components/responses/Page"
                "400":
                  $ref: "#/components/responses/PageRefused"
          /log:
            get:
              operationId: logPage
              summary: The web archive - the log, its latest checkpoint and how to audit it (HTML).
              responses:
                "200":
                  $ref: "#/components/responses/Page"
                "400":
                  $ref: "#/components/responses/PageRefused"
        components:
          parameters:
            incidentName:
              name: name
              in: path
              required: true
              description: The entity id without its kind (`incident:`, `facility:`).
              schema:
                type: string
                pattern: "^[A-Za-z0-9._-]{1,100}$"
            tileLevel:
              name: level
              in: path
              required: true
              description: The tile level (0 to 63; hashes of tree level 8 x level).
              schema:
                type: string
            tileIndex:
              name: index
              in: path
              required: true
              description: The tile index in groups of three digits (see the path's description).
              schema:
                type: string
            id:
              name: id
              in: path
              required: true
              description: An entity id (incident:NAME, facility:NAME, actor:NAME, source:NAME or aggregate:NAME).
              schema:
                type: string
                pattern: "^(incident|facility|actor|source|aggregate):[A-Za-z0-9._-]{1,100}$"
            asOf:
              name: asOf
              in: query
              description: The archive as it stood at this moment (RFC 3339 UTC, e.g. 2019-06-01T00:00:00Z; not in the future). Not with atSize.
              schema:
                type: string
            atSize:
              name: atSize
              in: query
              description: The archive as it stood when the log had this many entries. Not with asOf.
              schema:
                type: integer
                minimum: 0
          responses:
            Page:
              description: An HTML page.
              content:
                text/html:
                  schema:
                    type: string
            PageRefused:
              description: An HTML page saying what was not shown and why.
              content:
                text/html:
                  schema:
                    type: string
            BadRequest:
              description: A malformed request - an unknown or repeated query parameter, a bad number, date or id, a range beyond the log, bad JSON.
              content:
                application/json:
                  schema:
                    $ref: "#/components/schemas/Error"
            NotFound:
              description: No such entity, entry or tile, or no signed checkpoint of that size.
              content:
                application/json:
                  schema:
                    $ref: "#/components/schemas/Error"
            Unavailable:
              description: The ledger's storage failed (the database went away, the disk is full); the message says whether anything was written.
              content:
                application/json:
                  schema:
                    $ref: "#/components/schemas/Error"
          schemas:
            Error:
              type: object
              required: [error]
              properties:
                error:
                  type: object
                  required: [code, message]
                  properties:
                    code:
                      type: string
                      description: malformed, refused, conflict, notFound, readOnly, or a storage fault (unreachable, outcomeUnknown, busy, diskFull, ioError, rolledBack).
                    message:
                      type: string
            Envelope:
              type: object
              required: [payloadType, payload, signatures]
              properties:
                payloadType:
                  type: string
                  const: application/vnd.incidentledger.event+json
                payload:
                  type: string
                  description: Standard base64 of the event payload (docs/FORMAT.md §2).
                signatures:
                  type: array
                  minItems: 1
                  maxItems: 1
                  items:
                    type: object
                    required: [keyid, sig]
                    properties:
                      keyid:
                        type: string
                        pattern: "^[0-9a-f]{64}$"
                      sig:
                        type: string
            Appended:
              type: object
              required: [status, index, leafHash, id]
              properties:
                status:
                  type: string
                  enum: [appended, existing]
                index:
                  type: integer
                  minimum: 0
                leafHash:
                  type: string
                  description: Base64 of the RFC 9162 leaf hash of the entry line.
                id:
                  type: string
                  description: The event id (UUIDv7).
            Log:
              type: object
              required: [origin, genesisKeyID, treeSize, rootHash, checkpointSize, readOnly, maxBodyBytes]
              properties:
                origin:
                  type: string
                genesisKeyID:
                  type: string
                treeSize:
                  type: integer
                  minimum: 0
                rootHash:
                  type: string
                  description: Base64 of the Merkle root at treeSize.
                checkpointSize:
                  type: [integer, "null"]
                  description: Tree size of the latest signed checkpoint (null when there is none).
                readOnly:
                  type: boolean
                maxBodyBytes:
                  type: integer
            EntityView:
              type: object
              required: [id, requested, treeSize, state]
              properties:
                id:
                  type: string
                  description: The entity shown (after following merges).
                requested:
                  type: string
                treeSize:
                  type: integer
                asOf:
                  type: string
                state:
                  type: object
                attacks:
                  type: array
                  items:
                    type: object

        """#
}
