import Mustache

/// The web archive's templates (swift-mustache; `{{x}}` escapes HTML, `{{{x}}}` is only used for
/// HTML the server rendered itself). Kept in the code, not in files, so that the binary alone
/// serves the pages, air-gapped (DECISIONS 75).
enum WebTemplates {
    static let library: MustacheLibrary = {
        MustacheContentTypes.register(EscapedHTML(), named: "ESCAPED_HTML")
        var library = MustacheLibrary()
        for (name, text) in [
            ("layout", layout), ("incidents", incidents), ("incident", incident), ("history", history), ("facility", facility), ("log", log),
            ("moment", moment), ("list", list), ("actor", actor), ("source", source), ("aggregate", aggregate), ("incidentRows", incidentRows),
            ("charts", charts),
        ] {
            do { try library.register("{{% CONTENT_TYPE: ESCAPED_HTML}}" + text, named: name) } catch { fatalError("template \(name): \(error)") }
        }
        return library
    }()

    /// Escapes text for HTML, byte by byte: `&`, `<`, `>`, `"` and `'` whatever follows them.
    /// swift-mustache's own escaping looks characters up whole, so a quote followed by a
    /// combining mark (one Character) passed unescaped and could end an attribute value: a
    /// query such as `place=%22%CC%81%20autofocus%20onfocus%3D…` was reflected into the filter
    /// form as markup (test: `ServerWebTests`). It is also much faster.
    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 32)
        for b in text.utf8 {
            switch b {
            case 0x26: out += [0x26, 0x61, 0x6D, 0x70, 0x3B]  // &amp;
            case 0x3C: out += [0x26, 0x6C, 0x74, 0x3B]  // &lt;
            case 0x3E: out += [0x26, 0x67, 0x74, 0x3B]  // &gt;
            case 0x22: out += [0x26, 0x71, 0x75, 0x6F, 0x74, 0x3B]  // &quot;
            case 0x27: out += [0x26, 0x23, 0x33, 0x39, 0x3B]  // &#39;
            default: out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    struct EscapedHTML: MustacheContentType {
        func escapeText(_ text: String) -> String { WebTemplates.escape(text) }
    }

    static func render(_ page: String, _ object: [String: Any]) -> String {
        library.render(object, withTemplate: page) ?? ""
    }

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · IncidentLedger</title>
        <link rel="stylesheet" href="/static/style.css">
        </head>
        <body>
        <header>
        <p class="site"><a href="/incidents">IncidentLedger</a> <span class="origin">{{origin}}</span></p>
        <nav aria-label="Archive"><a href="/incidents{{momentQuery}}">Incidents</a> <a href="/facilities{{momentQuery}}">Facilities</a> <a href="/actors{{momentQuery}}">Actors</a> <a href="/sources{{momentQuery}}">Sources</a> <a href="/aggregates{{momentQuery}}">Counts</a> <a href="/charts{{momentQuery}}">Charts</a> <a href="/log">The log</a></nav>
        </header>
        {{#asOf}}<p class="banner" role="status">Shown as the archive held it at <strong>{{moment}}</strong> (tree size {{treeSize}}), not as it stands now. <a href="{{nowLink}}">Show now</a></p>{{/asOf}}
        <main>
        {{{body}}}
        </main>
        <footer><p>Every entry of this archive is signed; the <a href="/log">log page</a> says how to audit it. Pages show places at town or district precision only.</p></footer>
        </body>
        </html>

        """

    static let moment = """
        <form class="moment" method="get" action="{{action}}">
        {{#hidden}}<input type="hidden" name="{{name}}" value="{{value}}">{{/hidden}}
        <label>As of <input type="date" name="asOf" value="{{asOfDate}}"></label>
        <button type="submit">Show</button>
        </form>

        """

    static let incidents = """
        <h1>Incidents</h1>
        {{> moment}}
        <form class="filters" method="get" action="/incidents">
        {{#atSizeHidden}}<input type="hidden" name="atSize" value="{{.}}">{{/atSizeHidden}}
        <label>Place <input name="place" value="{{filters.place}}"></label>
        <label>Perpetrator (actor id) <input name="perpetrator" value="{{filters.perpetrator}}"></label>
        <label>Facility (id) <input name="facility" value="{{filters.facility}}"></label>
        <label>Occurred from <input name="occurredFrom" value="{{filters.occurredFrom}}" placeholder="YYYY-MM-DD"></label>
        <label>to <input name="occurredTo" value="{{filters.occurredTo}}" placeholder="YYYY-MM-DD"></label>
        <label>Status <select name="status">{{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statuses}}</select></label>
        <button type="submit">Filter</button>
        </form>
        <p class="count">{{count}} incident{{^one}}s{{/one}}{{#paged}}, {{first}}–{{last}} shown{{/paged}}</p>
        <table class="incidents">
        <caption>Incidents recorded in the archive{{#asOf}} as of {{moment}}{{/asOf}}</caption>
        <thead><tr>
        <th scope="col"><a href="{{sortOccurred}}">Occurred</a></th>
        <th scope="col"><a href="{{sortTitle}}">Incident</a></th>
        <th scope="col">Place</th>
        <th scope="col">Assessed perpetrator</th>
        <th scope="col">Certainty</th>
        <th scope="col">Status</th>
        </tr></thead>
        <tbody>
        {{#rows}}
        <tr>
        <td>{{occurred}}</td>
        <td><a href="{{href}}">{{#titles}}<span class="title" lang="{{lang}}" dir="auto">{{text}}</span>{{/titles}}</a></td>
        <td><bdi>{{place}}</bdi></td>
        <td><bdi>{{perpetrator}}</bdi></td>
        <td>{{certainty}}</td>
        <td>{{status}}</td>
        </tr>
        {{/rows}}
        </tbody>
        </table>
        {{#paged}}<nav class="pages" aria-label="Pages">{{#previous}}<a href="{{.}}" rel="prev">Previous</a>{{/previous}} {{#next}}<a href="{{.}}" rel="next">Next</a>{{/next}}</nav>{{/paged}}

        """

    static let incident = """
        <h1>{{#titles}}<span class="title" lang="{{lang}}" dir="auto">{{text}}</span>{{/titles}}</h1>
        <p class="id">{{id}}{{#merged}} · merged into <a href="{{href}}">{{into}}</a>{{/merged}} · <a href="{{historyHref}}">history of every change</a></p>
        {{> moment}}
        <dl class="facts">
        <dt>Occurred</dt><dd>{{occurred}}</dd>
        <dt>Place</dt><dd><bdi>{{place}}</bdi></dd>
        <dt>Status</dt><dd>{{status}}</dd>
        <dt>Certainty</dt><dd>{{certainty}}{{#certaintyReason}} — <span dir="auto">{{.}}</span>{{/certaintyReason}}</dd>
        <dt>Verification</dt><dd>{{verification}}{{#verificationReason}} — <span dir="auto">{{.}}</span>{{/verificationReason}}</dd>
        <dt>Means</dt><dd>{{means}}</dd>
        </dl>
        {{#summaries}}<p class="summary" lang="{{lang}}" dir="auto">{{text}}</p>{{/summaries}}
        <h2>Facilities hit</h2>
        <ul>{{#facilities}}<li><a href="{{href}}"><bdi>{{name}}</bdi></a> <span class="id">{{id}}</span> — impact: {{impact}}</li>{{/facilities}}{{^facilities}}<li>None recorded.</li>{{/facilities}}</ul>
        <h2>Attribution</h2>
        <h3>The archive's assessment</h3>
        {{#assessment}}<p><strong><bdi>{{perpetrator}}</bdi></strong>, confidence {{confidence}}. <span dir="auto">{{rationale}}</span></p>{{/assessment}}{{^assessment}}<p>No assessment recorded.</p>{{/assessment}}
        <h3>Claims and denials</h3>
        {{#hasClaims}}<table class="claims">
        <thead><tr><th scope="col">Claimant</th><th scope="col">Stance</th><th scope="col">Perpetrator named</th><th scope="col">Basis</th><th scope="col">Said on</th><th scope="col">Source</th></tr></thead>
        <tbody>{{#claims}}<tr><td><bdi>{{claimant}}</bdi></td><td>{{stance}}</td><td><bdi>{{perpetrator}}</bdi></td><td>{{basis}}</td><td>{{claimedOn}}</td><td><bdi>{{source}}</bdi></td></tr>{{/claims}}</tbody>
        </table>{{/hasClaims}}
        {{^hasClaims}}<p>No claims recorded.</p>{{/hasClaims}}
        <h2>Casualties</h2>
        {{#hasCasualties}}<table class="casualties">
        <thead><tr><th scope="col">Category</th><th scope="col">Figure</th><th scope="col">Reported by</th></tr></thead>
        <tbody>
        {{#adopted}}<tr class="adopted"><td>{{category}}</td><td>{{range}}</td><td>adopted by the archive ({{rule}})</td></tr>{{/adopted}}
        {{#reports}}<tr><td>{{category}}</td><td>{{range}}</td><td><bdi>{{source}}</bdi></td></tr>{{/reports}}
        </tbody>
        </table>{{/hasCasualties}}
        {{^hasCasualties}}<p>No casualty figures recorded.</p>{{/hasCasualties}}
        <h2>Sources cited</h2>
        <ul>{{#sources}}<li><bdi>{{name}}</bdi>{{#note}} — <span dir="auto">{{.}}</span>{{/note}}</li>{{/sources}}{{^sources}}<li>None cited.</li>{{/sources}}</ul>
        <h2>Proof of these entries</h2>
        {{#proof}}
        <p id="verify-status" role="status" data-state="unchecked">This page was drawn from the {{count}} signed entries below. {{^pending}}Each is in the log at the latest signed checkpoint, tree size {{checkpointSize}}, root <code>{{root}}</code>{{/pending}}{{#pending}}The latest signed checkpoint (tree size {{checkpointSize}}, root <code>{{root}}</code>) covers {{proven}} of them; the other {{pending}}, newer, cannot be proven until the next checkpoint{{/pending}}: your browser checks that when it runs this page's script. Without scripts, check the log with <code>ledger audit</code> (see <a href="/log">the log</a>).</p>
        {{#withheld}}<p class="withheld">{{.}} of these entries hold a field these pages never show (exact coordinates, a facility's location or deconfliction record): for them the page gives the leaf hash alone, and the browser checks where it stands in the log (when the checkpoint covers it), not its content, signature or subject.</p>{{/withheld}}
        <table class="entries">
        <caption>The signed entries of this view and what the browser found</caption>
        <thead><tr><th scope="col">Entry</th><th scope="col">Type</th><th scope="col">Recorded</th><th scope="col">Signer</th><th scope="col">Leaf hash (SHA-256, base64)</th><th scope="col">Checked</th></tr></thead>
        <tbody>{{#entries}}<tr data-index="{{index}}"><td>{{index}}</td><td>{{type}}</td><td>{{recordedAt}}</td><td><bdi>{{signer}}</bdi></td><td><code class="hash">{{leafHash}}</code></td><td class="check">not checked</td></tr>{{/entries}}</tbody>
        </table>
        <p>The log's checkpoint key{{#logKeys}} <code class="vkey">{{.}}</code>{{/logKeys}} (the same as on <a href="/log">the log page</a>). The check above is only as good as that key: compare the key its result names with the one the archive publishes elsewhere. It proves that these signed entries are in the log that key signed; not that the facts above are what they say (that is the server's reading of them; <code>ledger audit</code> replays them), nor that no entry of this incident was left out.</p>
        <script type="application/json" id="ledger-proof">{{{json}}}</script>
        <script src="/static/verify.js" defer></script>
        {{/proof}}
        {{^proof}}<p>No checkpoint has been signed yet, so there is nothing to check these entries against.</p>{{/proof}}

        """

    static let history = """
        <h1>History of {{#titles}}<span class="title" lang="{{lang}}" dir="auto">{{text}}</span>{{/titles}}</h1>
        <p class="id">{{id}} · <a href="{{incidentHref}}">the incident now</a></p>
        <p>Every signed change to this incident, oldest first: who signed it, when the archive recorded it, why, and each field's old and new value.</p>
        <ol class="timeline">
        {{#revisions}}
        <li>
        <h2>Entry {{index}}: {{type}}</h2>
        <p>Recorded {{recordedAt}}, signed by <bdi>{{signer}}</bdi>{{#on}} (an event on <bdi>{{.}}</bdi>){{/on}}. <a href="{{asOfHref}}">The incident as it stood after it</a></p>
        {{#reason}}<p>Reason: <span dir="auto">{{.}}</span></p>{{/reason}}
        {{#hasChanges}}<table class="changes">
        <thead><tr><th scope="col">Field</th><th scope="col">Old</th><th scope="col">New</th></tr></thead>
        <tbody>{{#changes}}<tr><td><code>{{field}}</code></td><td dir="auto">{{old}}</td><td dir="auto">{{new}}</td></tr>{{/changes}}</tbody>
        </table>{{/hasChanges}}
        </li>
        {{/revisions}}
        </ol>

        """

    static let facility = """
        <h1>{{#names}}<span class="title" lang="{{lang}}" dir="auto">{{text}}</span>{{/names}}</h1>
        <p class="id">{{id}}</p>
        {{> moment}}
        <dl class="facts">
        <dt>Type</dt><dd>{{type}}</dd>
        {{#hasOperators}}<dt>Operated by</dt><dd><bdi>{{operators}}</bdi></dd>{{/hasOperators}}
        {{#hasAliases}}<dt>Also known as</dt><dd>{{#aliases}}<span class="alias" lang="{{lang}}" dir="auto">{{name}}</span> ({{kind}}) {{/aliases}}</dd>{{/hasAliases}}
        </dl>
        {{#notes}}<p class="summary" lang="{{lang}}" dir="auto">{{text}}</p>{{/notes}}
        <h2>Attacks on this facility</h2>
        {{#hasAttacks}}<table class="attacks">
        <thead><tr><th scope="col">Occurred</th><th scope="col">Incident</th><th scope="col">Impact</th><th scope="col">Status</th></tr></thead>
        <tbody>{{#attacks}}<tr><td>{{occurred}}</td><td><a href="{{href}}">{{#titles}}<span class="title" lang="{{lang}}" dir="auto">{{text}}</span>{{/titles}}</a></td><td>{{impact}}</td><td>{{status}}</td></tr>{{/attacks}}</tbody>
        </table>{{#cut}}<p>And {{.}} later attacks, not listed here (the list shows the first 500; the incidents table filtered by this facility lists them all).</p>{{/cut}}{{/hasAttacks}}
        {{^hasAttacks}}<p>No attack on it is recorded.</p>{{/hasAttacks}}

        """

    static let list = """
        <h1>{{title}}</h1>
        {{> moment}}
        {{#aggregate}}<p>Each row is one source's figure for one measure over one period, as the source gave it: a count is never split into incidents, and the incidents the archive knows to be among those counted are listed on its page.</p>{{/aggregate}}
        <p class="count">{{count}} recorded</p>
        <table class="entities">
        <thead><tr><th scope="col">{{firstColumn}}</th>{{#columns}}<th scope="col">{{.}}</th>{{/columns}}</tr></thead>
        <tbody>
        {{#rows}}<tr><td>{{#first}}<a href="{{href}}">{{#texts}}<span class="title" lang="{{lang}}" dir="auto">{{text}}</span>{{/texts}}</a> <span class="id">{{id}}</span>{{/first}}</td>{{#cells}}<td dir="auto">{{.}}</td>{{/cells}}</tr>
        {{/rows}}
        </tbody>
        </table>

        """

    /// Rows of incidents: occurred, titles (for the actor and source pages).
    static let incidentRows = """
        <td>{{occurred}}</td><td><a href="{{href}}">{{#titles}}<span class="title" lang="{{lang}}" dir="auto">{{text}}</span>{{/titles}}</a></td>
        """

    static let countRows = """
        <table class="counts">
        <thead><tr><th scope="col">What was counted</th><th scope="col">Figure</th><th scope="col">Period</th><th scope="col">Counted by</th></tr></thead>
        <tbody>{{#counts}}<tr><td><a href="{{href}}">{{#descriptions}}<span lang="{{lang}}" dir="auto">{{text}}</span>{{/descriptions}}</a></td><td><bdi>{{figure}}</bdi></td><td>{{period}}</td><td>{{#source}}<a href="{{href}}"><bdi>{{text}}</bdi></a>{{/source}}</td></tr>{{/counts}}</tbody>
        </table>
        """

    static let actor = """
        <h1>{{#names}}<span class="title" lang="{{lang}}" dir="auto">{{text}}</span>{{/names}}</h1>
        <p class="id">{{id}}</p>
        {{> moment}}
        <dl class="facts">
        <dt>Type</dt><dd>{{type}}</dd>
        {{#country}}<dt>Country</dt><dd>{{.}}</dd>{{/country}}
        {{#partOf}}<dt>Part of</dt><dd><a href="{{href}}"><bdi>{{text}}</bdi></a></dd>{{/partOf}}
        </dl>
        {{#notes}}<p class="summary" lang="{{lang}}" dir="auto">{{text}}</p>{{/notes}}
        <h2>Incidents the archive attributes to it</h2>
        {{#hasAssessed}}<table class="assessed"><thead><tr><th scope="col">Occurred</th><th scope="col">Incident</th><th scope="col">Confidence</th></tr></thead>
        <tbody>{{#assessed}}<tr>{{> incidentRows}}<td>{{confidence}}{{#either}} (as one of two or more possible perpetrators){{/either}}</td></tr>{{/assessed}}</tbody></table>{{/hasAssessed}}
        {{^hasAssessed}}<p>None.</p>{{/hasAssessed}}
        <h2>Claims and denials it made</h2>
        {{#hasMade}}<table class="claims"><thead><tr><th scope="col">Occurred</th><th scope="col">Incident</th><th scope="col">Stance</th><th scope="col">Perpetrator named</th><th scope="col">Said on</th></tr></thead>
        <tbody>{{#made}}<tr>{{> incidentRows}}<td>{{stance}}</td><td><bdi>{{perpetrator}}</bdi></td><td>{{claimedOn}}</td></tr>{{/made}}</tbody></table>{{/hasMade}}
        {{^hasMade}}<p>None recorded.</p>{{/hasMade}}
        <h2>Claims by others that name it</h2>
        {{#hasNaming}}<table class="claims"><thead><tr><th scope="col">Occurred</th><th scope="col">Incident</th><th scope="col">Claimant</th><th scope="col">Stance</th><th scope="col">Perpetrator named</th></tr></thead>
        <tbody>{{#naming}}<tr>{{> incidentRows}}<td><bdi>{{claimant}}</bdi></td><td>{{stance}}</td><td><bdi>{{perpetrator}}</bdi></td></tr>{{/naming}}</tbody></table>{{/hasNaming}}
        {{^hasNaming}}<p>None recorded.</p>{{/hasNaming}}
        <h2>Counts by monitoring groups that attribute attacks to it</h2>
        {{#hasCounts}}\(countRows){{/hasCounts}}
        {{^hasCounts}}<p>None recorded.</p>{{/hasCounts}}

        """

    static let source = """
        <h1><span class="title" lang="{{lang}}" dir="auto">{{title}}</span></h1>
        <p class="id">{{id}}</p>
        {{> moment}}
        <dl class="facts">
        <dt>Publisher</dt><dd><bdi>{{publisher}}</bdi></dd>
        <dt>Type</dt><dd>{{type}}</dd>
        {{#published}}<dt>Published</dt><dd>{{.}}</dd>{{/published}}
        <dt>Language</dt><dd>{{lang}}</dd>
        {{#url}}<dt>Address</dt><dd><code><bdi>{{.}}</bdi></code> (not loaded by this page)</dd>{{/url}}
        {{#archivedSha256}}<dt>Archived copy (SHA-256)</dt><dd><code class="hash">{{.}}</code></dd>{{/archivedSha256}}
        </dl>
        <h2>Incidents citing it</h2>
        {{#hasCited}}<table class="cited"><thead><tr><th scope="col">Occurred</th><th scope="col">Incident</th><th scope="col">Where</th><th scope="col">Note</th></tr></thead>
        <tbody>{{#cited}}<tr>{{> incidentRows}}<td dir="auto">{{locator}}</td><td dir="auto">{{note}}</td></tr>{{/cited}}</tbody></table>{{/hasCited}}
        {{^hasCited}}<p>None.</p>{{/hasCited}}
        <h2>Claims it made or reported</h2>
        {{#hasClaims}}<table class="claims"><thead><tr><th scope="col">Occurred</th><th scope="col">Incident</th><th scope="col">Claimant</th><th scope="col">Stance</th><th scope="col">Perpetrator named</th></tr></thead>
        <tbody>{{#claims}}<tr>{{> incidentRows}}<td><bdi>{{claimant}}</bdi></td><td>{{stance}}</td><td><bdi>{{perpetrator}}</bdi></td></tr>{{/claims}}</tbody></table>{{/hasClaims}}
        {{^hasClaims}}<p>None recorded.</p>{{/hasClaims}}
        <h2>Casualty figures it gives</h2>
        {{#hasFigures}}<table class="casualties"><thead><tr><th scope="col">Occurred</th><th scope="col">Incident</th><th scope="col">Category</th><th scope="col">Figure</th></tr></thead>
        <tbody>{{#figures}}<tr>{{> incidentRows}}<td>{{category}}</td><td>{{range}}</td></tr>{{/figures}}</tbody></table>{{/hasFigures}}
        {{^hasFigures}}<p>None recorded.</p>{{/hasFigures}}
        <h2>Counts it gives</h2>
        {{#hasCounts}}\(countRows){{/hasCounts}}
        {{^hasCounts}}<p>None recorded.</p>{{/hasCounts}}

        """

    static let aggregate = """
        <h1>{{figure}}: {{measure}}</h1>
        <p class="id">{{id}} · a monitoring group's count, as the source gave it; not an incident</p>
        {{> moment}}
        {{#descriptions}}<p class="summary" lang="{{lang}}" dir="auto">{{text}}</p>{{/descriptions}}
        <dl class="facts">
        <dt>Counted by</dt><dd>{{#source}}<a href="{{href}}"><bdi>{{text}}</bdi></a>{{/source}}</dd>
        <dt>Figure</dt><dd>{{figure}}</dd>
        <dt>Measure</dt><dd>{{measure}}</dd>
        <dt>Period</dt><dd>{{period}}</dd>
        {{#place}}<dt>Area</dt><dd><bdi>{{.}}</bdi></dd>{{/place}}
        {{#perpetrator}}<dt>Attributed by the source to</dt><dd><bdi>{{.}}</bdi></dd>{{/perpetrator}}
        {{#statedOn}}<dt>Stated on</dt><dd>{{.}}</dd>{{/statedOn}}
        {{#locator}}<dt>Where in the source</dt><dd dir="auto">{{.}}</dd>{{/locator}}
        {{#partOf}}<dt>Part of the count</dt><dd><a href="{{href}}">{{text}}</a></dd>{{/partOf}}
        {{#note}}<dt>Note</dt><dd dir="auto">{{.}}</dd>{{/note}}
        </dl>
        <h2>Incidents known to be among those counted</h2>
        {{#hasIncludes}}<table class="includes"><thead><tr><th scope="col">Occurred</th><th scope="col">Incident</th></tr></thead>
        <tbody>{{#includes}}<tr>{{> incidentRows}}</tr>{{/includes}}</tbody></table>{{/hasIncludes}}
        {{^hasIncludes}}<p>None linked: the count stands on its own.</p>{{/hasIncludes}}

        """

    static let charts = """
        <h1>Charts</h1>
        {{> moment}}
        <p>Drawn on the server from the {{active}} active incidents of this view (merged and retracted ones are left out); the numbers are in the tables under each chart.</p>
        <h2>Incidents per month by assessed perpetrator</h2>
        <figure>
        {{{monthly}}}
        <figcaption>Each bar is a month; its parts are the archive's own assessment of who carried out the attacks (not the claims of any party). An incident whose date is not known to the month is not in the chart{{#hasVague}} ({{vagueCount}}, listed below){{/hasVague}}.</figcaption>
        </figure>
        <table class="monthly">
        <caption>Incidents per month (months without any left out)</caption>
        <thead><tr><th scope="col">Month</th>{{#monthlyColumns}}<th scope="col"><bdi>{{.}}</bdi></th>{{/monthlyColumns}}<th scope="col">All</th></tr></thead>
        <tbody>{{#monthlyRows}}<tr><th scope="row">{{month}}</th>{{#counts}}<td>{{.}}</td>{{/counts}}<td>{{total}}</td></tr>{{/monthlyRows}}</tbody>
        </table>
        {{#hasVague}}<p>Not known to the month:</p><ul>{{#vague}}<li><a href="{{href}}" dir="auto">{{title}}</a> ({{occurred}})</li>{{/vague}}</ul>{{#cutVague}}<p>And {{.}} more, not listed (the list stops at 500).</p>{{/cutVague}}{{/hasVague}}
        <h2>Map of incidents at public precision</h2>
        <figure>
        {{{map}}}
        <figcaption>Longitude and latitude, one degree apart. Points are incidents whose place records coordinates at town, district or governorate precision ({{points}}); {{withoutPoint}} record none that may be shown, and none is invented. No boundaries are drawn: the archive ships no boundary data and loads nothing from elsewhere.</figcaption>
        </figure>
        {{#hasPoints}}<table class="points">
        <caption>The points on the map</caption>
        <thead><tr><th scope="col">Incident</th><th scope="col">Latitude</th><th scope="col">Longitude</th><th scope="col">Precision</th></tr></thead>
        <tbody>{{#pointRows}}<tr><td><a href="{{href}}" dir="auto">{{title}}</a></td><td>{{lat}}</td><td>{{lon}}</td><td>{{precision}}</td></tr>{{/pointRows}}</tbody>
        </table>{{/hasPoints}}
        {{#cutPoints}}<p>And {{.}} more incidents at public precision, neither drawn nor listed (the map stops at 500 points).</p>{{/cutPoints}}

        """

    static let log = """
        <h1>The log</h1>
        <p>Every report, correction and attribution in this archive is an event signed with Ed25519 and appended to a Merkle tree (RFC 9162). Signed checkpoints commit to the whole log at a size; anyone can check that a later checkpoint extends an earlier one.</p>
        <dl class="facts">
        <dt>Origin</dt><dd>{{origin}}</dd>
        <dt>Tree size</dt><dd>{{treeSize}}</dd>
        <dt>Root (base64)</dt><dd><code>{{root}}</code></dd>
        <dt>Genesis key id</dt><dd><code>{{genesisKeyID}}</code></dd>
        </dl>
        <h2>Log keys</h2>
        <p>Checkpoints are signed by these keys (C2SP signed-note verifier keys). Each incident page carries the latest checkpoint and the inclusion proofs of its entries, and your browser checks them with the key shown here.</p>
        <ul class="keys">{{#logKeys}}<li><code class="vkey">{{vkey}}</code> — <bdi>{{name}}</bdi>, enrolled at entry {{enrolled}}{{#revoked}}, revoked at entry {{.}}{{/revoked}}</li>{{/logKeys}}{{^logKeys}}<li>No key holds the log role.</li>{{/logKeys}}</ul>
        <h2>Latest signed checkpoint</h2>
        {{#checkpoint}}<pre class="note">{{.}}</pre>{{/checkpoint}}{{^checkpoint}}<p>No checkpoint has been signed yet.</p>{{/checkpoint}}
        <h2>How to audit</h2>
        <p>With nothing but an export of the log and the genesis key id above:</p>
        <pre>ledger export --ledger ARCHIVE --out bundle/
        ledger audit bundle/ --trust {{genesisKeyID}}
        python3 Tools/verify.py bundle/ --trust {{genesisKeyID}}</pre>
        {{#api}}<p>The log is also served as C2SP tlog-tiles under <a href="/tlog/checkpoint">/tlog/</a>, and the API is described at <a href="/openapi.yaml">/openapi.yaml</a>.</p>{{/api}}

        """

    static let palette = Routes.palette

    static let style =
        """
        body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 0 1rem; color: #1b1b1b; line-height: 1.45; }
        header { display: flex; justify-content: space-between; align-items: baseline; border-bottom: 1px solid #ccc; }
        header a { margin-right: 1rem; }
        .origin, .id { color: #555; font-size: 0.9em; }
        .banner { background: #fff3cd; border: 1px solid #e0b000; padding: 0.5rem 0.75rem; }
        .title { display: block; }
        table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; }
        th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.4rem; text-align: start; vertical-align: top; }
        caption { text-align: start; color: #555; }
        dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.2rem 1rem; }
        dt { font-weight: 600; }
        form { margin: 0.5rem 0; }
        form.filters label { margin-right: 0.75rem; display: inline-block; }
        pre { white-space: pre-wrap; word-break: break-all; background: #f6f6f6; padding: 0.5rem; }
        tr.adopted { font-weight: 600; }
        code.hash, code.vkey { font-size: 0.8em; word-break: break-all; }
        #verify-status { border: 1px solid #bbb; padding: 0.5rem 0.75rem; }
        #verify-status[data-state="verified"] { background: #e6f4ea; border-color: #2e7d32; }
        #verify-status[data-state="failed"] { background: #fde8e8; border-color: #c62828; font-weight: 600; }
        #verify-status[data-state="partial"], #verify-status[data-state="unavailable"] { background: #fff3cd; border-color: #e0b000; }
        td.check.ok { color: #1b5e20; }
        td.check.pending, td.check.partial { color: #7a5b00; }
        td.check.bad { color: #b71c1c; font-weight: 600; }
        svg.chart { width: 100%; height: auto; max-width: 960px; display: block; }
        svg.map { max-width: 640px; }
        svg .grid { stroke: #e3e3e3; stroke-width: 1; }
        svg .axis { stroke: #555; stroke-width: 1; }
        svg .frame { fill: #f7f9fb; stroke: #888; }
        svg .tick { font-size: 11px; fill: #444; }
        svg .empty { font-size: 14px; fill: #666; }
        svg .point { fill: #D55E00; fill-opacity: 0.8; stroke: #fff; }
        ul.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 0.3rem 1.2rem; }
        .swatch { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.35em; vertical-align: -0.1em; }
        figure { margin: 0.5rem 0 1rem; }
        figcaption { color: #555; font-size: 0.9em; }
        nav a { white-space: nowrap; }
        footer { border-top: 1px solid #ccc; margin-top: 2rem; color: #555; font-size: 0.9em; }

        """
        + (0...palette.count).map { ".swatch-\($0) { background: \(Routes.color($0)); }" }.joined(separator: "\n") + "\n"
}
