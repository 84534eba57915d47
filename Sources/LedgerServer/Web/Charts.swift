import Foundation
import Hummingbird
import LedgerArchive
import LedgerCore
import LedgerStore

/// The web archive's charts, drawn on the server as SVG (no script, no asset from elsewhere):
/// incidents per month by the archive's assessed perpetrator, and a map of incident points at
/// public precision on a longitude/latitude frame. Each chart has a text alternative and the
/// same numbers in a table below it.
extension Routes {
    func addCharts(to router: Router<some RequestContext>) {
        router.get("/charts") { request, _ in await page { try await chartsPage(request) } }
    }

    /// Colours for the perpetrator series (distinct in print and for common colour blindness:
    /// the Okabe–Ito palette), then grey for the rest.
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

    struct MonthlySeries {
        var label: String
        var counts: [Int: Int]  // yyyymm → incidents
    }

    func chartsPage(_ request: Request) async throws -> Response {
        let origin = server.origin
        return try await viewPage(request) { (_, view, at) throws(LedgerError) in
            var series: [String: MonthlySeries] = [:]
            var order: [String] = []
            var vague: [[String: String]] = []
            var points: [(lon: Double, lat: Double, title: String, href: String, precision: String)] = []
            var withoutPoint = 0
            var labels: [String: String] = [:]  // perpetrator ids → the series' name, read once
            var active = 0
            for s in try view.incidents(matching: IncidentFilter()) where (s["status"]?.stringValue ?? "active") == "active" {
                active += 1
                let id = s["id"]?.stringValue ?? ""
                let title = Self.texts(s["title"]?.objectValue).first?["text"] ?? id
                let href = Self.href(id, at: at)
                let edtf = s["occurred"]?.stringValue.flatMap { EDTF($0) }
                if let c = s["place"]?.objectValue?["coordinates"]?.objectValue, let p = c["precision"]?.stringValue,
                    ["town", "district", "governorate"].contains(p), let lat = c["lat"].flatMap(Self.number), let lon = c["lon"].flatMap(Self.number)
                {
                    points.append((lon, lat, title, href, p))
                } else {
                    withoutPoint += 1
                }
                guard let e = edtf, let first = e.earliest, let last = e.latest, first / 100 == last / 100 else {
                    vague.append(["title": title, "href": href, "occurred": s["occurred"]?.stringValue ?? "unknown"])
                    continue
                }
                let label: String
                if let a = s["assessment"]?.objectValue {
                    let named = Self.actorIDs(a["perpetrator"])
                    let key = named.joined(separator: " ") + (a["perpetrator"]?.objectValue != nil ? " either" : "")
                    if let known = labels[key] {
                        label = known
                    } else {
                        label = named.isEmpty ? "undetermined" : try Self.perpetrator(a["perpetrator"], view: view)
                        labels[key] = label
                    }
                } else {
                    label = "not yet assessed"
                }
                if series[label] == nil {
                    series[label] = MonthlySeries(label: label, counts: [:])
                    order.append(label)
                }
                series[label]!.counts[first / 100, default: 0] += 1
            }
            // Series by size, largest first; their order fixes the colours.
            let sorted = order.compactMap { series[$0] }.sorted {
                let (a, b) = ($0.counts.values.reduce(0, +), $1.counts.values.reduce(0, +))
                return a != b ? a > b : $0.label < $1.label
            }
            let monthly = Self.monthlyChart(sorted)
            let map = Self.mapChart(Array(points.prefix(Self.listLimit)))
            let cutPoints = points.count - min(points.count, Self.listLimit)
            let cutVague = vague.count - min(vague.count, Self.listLimit)
            vague = Array(vague.prefix(Self.listLimit))
            let object: [String: Any] = [
                "monthly": monthly.svg, "monthlyRows": monthly.rows, "monthlyColumns": sorted.map(\.label), "vague": vague, "hasVague": !vague.isEmpty,
                "vagueCount": String(vague.count), "map": map, "points": String(points.count), "withoutPoint": String(withoutPoint),
                "active": String(active), "action": "/charts", "hidden": [[String: String]](), "asOfDate": Self.dateControl(at),
                "cutPoints": cutPoints > 0 ? String(cutPoints) : "", "cutVague": cutVague > 0 ? String(cutVague) : "",
                "pointRows": points.prefix(Self.listLimit).map {
                    ["title": $0.title, "href": $0.href, "lat": Self.coordinate($0.lat), "lon": Self.coordinate($0.lon), "precision": $0.precision]
                },
                "hasPoints": !points.isEmpty,
            ]
            return html(.ok, title: "Charts", body: WebTemplates.render("charts", object), context: PageContext(origin: origin, moment: at, nowLink: "/charts"))
        }
    }

    static func number(_ v: JSONValue) -> Double? {
        if case .number(let text) = v { return Double(text) }
        return nil
    }

    static func coordinate(_ x: Double) -> String { String(format: "%.2f", x) }

    /// A number for an SVG attribute: at most one decimal, no exponent.
    static func svgNumber(_ x: Double) -> String {
        let r = (x * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
    }

    /// Stacked bars, one per month from the first month with an incident to the last, one colour
    /// per perpetrator; years marked on the axis. Also the same numbers as table rows.
    static func monthlyChart(_ series: [MonthlySeries]) -> (svg: String, rows: [[String: Any]]) {
        let months = Set(series.flatMap(\.counts.keys))
        guard let first = months.min(), let last = months.max() else {
            return ("<p>No incident in this view has a date known to the month.</p>", [])
        }
        var all: [Int] = []
        var m = first
        while m <= last {
            all.append(m)
            m = m % 100 == 12 ? (m / 100 + 1) * 100 + 1 : m + 1
        }
        let totals = all.map { month in series.reduce(0) { $0 + ($1.counts[month] ?? 0) } }
        let top = max(1, totals.max() ?? 1)
        let (width, height, left, right, topPad, bottom) = (960.0, 300.0, 40.0, 10.0, 10.0, 40.0)
        let plotW = width - left - right
        let plotH = height - topPad - bottom
        let bar = plotW / Double(all.count)
        let total = totals.reduce(0, +)
        let summary =
            "Incidents per month, \(Self.monthText(first)) to \(Self.monthText(last)), by the archive's assessed perpetrator: "
            + series.map { "\($0.label) \($0.counts.values.reduce(0, +))" }.joined(separator: ", ") + "; \(total) in all."
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(svgNumber(width)) \(svgNumber(height))\" role=\"img\" aria-labelledby=\"monthly-title monthly-desc\" class=\"chart\">"
        svg += "<title id=\"monthly-title\">Incidents per month by assessed perpetrator</title><desc id=\"monthly-desc\">\(escape(summary))</desc>"
        // The count axis: a line at each whole number (at most 5 of them).
        let step = max(1, Int((Double(top) / 5).rounded(.up)))
        for v in stride(from: 0, through: top, by: step) {
            let y = topPad + plotH - plotH * Double(v) / Double(top)
            svg += "<line x1=\"\(svgNumber(left))\" y1=\"\(svgNumber(y))\" x2=\"\(svgNumber(width - right))\" y2=\"\(svgNumber(y))\" class=\"grid\"/>"
            svg += "<text x=\"\(svgNumber(left - 6))\" y=\"\(svgNumber(y + 4))\" text-anchor=\"end\" class=\"tick\">\(v)</text>"
        }
        for (i, month) in all.enumerated() {
            let x = left + Double(i) * bar
            // A year is marked at its January, and at the first month when that is not late in
            // its year (so that two labels never overlap).
            if month % 100 == 1 || (i == 0 && month % 100 <= 6) {
                svg +=
                    "<line x1=\"\(svgNumber(x))\" y1=\"\(svgNumber(topPad + plotH))\" x2=\"\(svgNumber(x))\" y2=\"\(svgNumber(topPad + plotH + 6))\" class=\"axis\"/>"
                svg += "<text x=\"\(svgNumber(x + 2))\" y=\"\(svgNumber(topPad + plotH + 20))\" class=\"tick\">\(month / 100)</text>"
            }
            var y = topPad + plotH
            for (k, s) in series.enumerated() {
                guard let n = s.counts[month], n > 0 else { continue }
                let h = plotH * Double(n) / Double(top)
                y -= h
                svg +=
                    "<rect x=\"\(svgNumber(x + 0.5))\" y=\"\(svgNumber(y))\" width=\"\(svgNumber(max(1, bar - 1)))\" height=\"\(svgNumber(h))\" fill=\"\(color(k))\">"
                svg += "<title>\(escape(monthText(month))): \(n) \(escape(s.label))</title></rect>"
            }
        }
        svg +=
            "<line x1=\"\(svgNumber(left))\" y1=\"\(svgNumber(topPad + plotH))\" x2=\"\(svgNumber(width - right))\" y2=\"\(svgNumber(topPad + plotH))\" class=\"axis\"/>"
        svg += "</svg>"
        var legend = "<ul class=\"legend\">"
        for (k, s) in series.enumerated() {
            legend += "<li><span class=\"swatch swatch-\(min(k, palette.count))\"></span><bdi>\(escape(s.label))</bdi> (\(s.counts.values.reduce(0, +)))</li>"
        }
        legend += "</ul>"
        let rows: [[String: Any]] = all.enumerated().compactMap { i, month in
            totals[i] == 0 ? nil : ["month": monthText(month), "counts": series.map { String($0.counts[month] ?? 0) }, "total": String(totals[i])]
        }
        return (svg + legend, rows)
    }

    /// A whole degree with its hemisphere: 36°E, 5°W, 0°.
    static func degrees(_ x: Double, _ positive: String, _ negative: String) -> String {
        let n = Int(x)
        return n == 0 ? "0°" : "\(abs(n))°\(n > 0 ? positive : negative)"
    }

    static func color(_ k: Int) -> String { k < palette.count ? palette[k] : "#999999" }

    static func monthText(_ yyyymm: Int) -> String {
        let names = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        let m = yyyymm % 100
        return (1...12).contains(m) ? "\(names[m - 1]) \(yyyymm / 100)" : String(yyyymm)
    }

    /// Points on an equirectangular longitude/latitude frame (x = longitude, y = latitude, the
    /// frame's aspect corrected by the cosine of its middle latitude), with a graticule every
    /// degree. No outlines: the project ships no boundary data, and none is fetched.
    static func mapChart(_ points: [(lon: Double, lat: Double, title: String, href: String, precision: String)]) -> String {
        // The frame: the points' extent with half a degree around it, or north-western and
        // central Syria when there are none.
        var (west, east, south, north) = (35.5, 42.5, 32.0, 37.5)
        if let minLon = points.map(\.lon).min(), let maxLon = points.map(\.lon).max(), let minLat = points.map(\.lat).min(),
            let maxLat = points.map(\.lat).max()
        {
            (west, east, south, north) = (
                max(-180, (minLon - 0.5).rounded(.down)), min(180, (maxLon + 0.5).rounded(.up)), max(-90, (minLat - 0.5).rounded(.down)),
                min(90, (maxLat + 0.5).rounded(.up))
            )
        }
        let aspect = cos((south + north) / 2 * .pi / 180)
        let width = 640.0
        let height = min(900, max(200, width * (north - south) / ((east - west) * aspect)))
        let pad = 30.0
        func x(_ lon: Double) -> Double { pad + (lon - west) / (east - west) * (width - 2 * pad) }
        func y(_ lat: Double) -> Double { pad + (north - lat) / (north - south) * (height - 2 * pad) }
        let summary =
            points.isEmpty
            ? "No incident in this view records coordinates at public precision; the frame spans \(Int(west))° to \(Int(east))° east, \(Int(south))° to \(Int(north))° north."
            : "\(points.count) incidents at town, district or governorate precision, between \(Int(west))° and \(Int(east))° east, \(Int(south))° and \(Int(north))° north."
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(svgNumber(width)) \(svgNumber(height))\" role=\"\(points.isEmpty ? "img" : "group")\" aria-labelledby=\"map-title map-desc\" class=\"chart map\">"
        svg += "<title id=\"map-title\">Incidents at public precision on a longitude and latitude frame</title><desc id=\"map-desc\">\(escape(summary))</desc>"
        svg +=
            "<rect x=\"\(svgNumber(pad))\" y=\"\(svgNumber(pad))\" width=\"\(svgNumber(width - 2 * pad))\" height=\"\(svgNumber(height - 2 * pad))\" class=\"frame\"/>"
        for lon in stride(from: west, through: east, by: 1) {
            svg += "<line x1=\"\(svgNumber(x(lon)))\" y1=\"\(svgNumber(pad))\" x2=\"\(svgNumber(x(lon)))\" y2=\"\(svgNumber(height - pad))\" class=\"grid\"/>"
            svg +=
                "<text x=\"\(svgNumber(x(lon)))\" y=\"\(svgNumber(height - pad + 16))\" text-anchor=\"middle\" class=\"tick\">\(degrees(lon, "E", "W"))</text>"
        }
        for lat in stride(from: south, through: north, by: 1) {
            svg += "<line x1=\"\(svgNumber(pad))\" y1=\"\(svgNumber(y(lat)))\" x2=\"\(svgNumber(width - pad))\" y2=\"\(svgNumber(y(lat)))\" class=\"grid\"/>"
            svg += "<text x=\"\(svgNumber(pad - 4))\" y=\"\(svgNumber(y(lat) + 4))\" text-anchor=\"end\" class=\"tick\">\(degrees(lat, "N", "S"))</text>"
        }
        for p in points {
            svg += "<a href=\"\(escape(p.href))\"><circle cx=\"\(svgNumber(x(p.lon)))\" cy=\"\(svgNumber(y(p.lat)))\" r=\"5\" class=\"point\">"
            svg += "<title>\(escape(p.title)) (\(p.precision) precision)</title></circle></a>"
        }
        if points.isEmpty {
            svg +=
                "<text x=\"\(svgNumber(width / 2))\" y=\"\(svgNumber(height / 2))\" text-anchor=\"middle\" class=\"empty\">No incident here records coordinates at public precision</text>"
        }
        return svg + "</svg>"
    }
}
