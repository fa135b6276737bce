import Foundation
import Testing
import Protocol
@testable import Coordinator
import Engine
import TestSupport

struct LossesCSVTests {
    let parameters = [PlannedTask.Parameter(name: "gamma", value: 0.3), PlannedTask.Parameter(name: "beta", value: 1000)]
    let line = FarmRecords.LossLine(iteration: 10, total: 12.5, content: 2.25, styles: [6, 4], tv: 0.25, elapsed: 1.23456)

    @Test func theHeaderNamesOneColumnPerStyle() {
        #expect(LossesCSV.header(styleCount: 2)
            == "task,attempt,parameters,iteration,total,content,style_1,style_2,tv,elapsed_s,ri_1,ri_2,sigma_1,sigma_2")
        #expect(LossesCSV.header(styleCount: 0) == "task,attempt,parameters,iteration,total,content,style_1,tv,elapsed_s,ri_1,sigma_1")
    }

    @Test func aRowHasTheParametersJoinedBySemicolonsAndFullPrecisionLosses() {
        let row = LossesCSV.row(task: "gamma=0.3", attempt: 2, parameters: parameters, line: line, styleCount: 2)
        #expect(row == "gamma=0.3,2,gamma=0.3;beta=1000,10,12.5,2.25,6.0,4.0,0.25,1.235,,,,")
    }

    @Test func aRowCarriesTheRelativeImprovementSoFarAndTheSigmas() {
        let row = LossesCSV.row(task: "gamma=0.3", attempt: 2, parameters: parameters, line: line, styleCount: 2,
                                start: [12, 2], sigmas: [1, 1.5])
        #expect(row.hasSuffix(",0.25,1.235,2.0,0.5,1.0,1.5"), "RI = start / now per style, then σ")
    }

    @Test func aTaskKeyWithCommasIsQuoted() {
        let row = LossesCSV.row(task: "gamma=0.3,beta=1000", attempt: 1, parameters: parameters, line: line, styleCount: 2)
        #expect(row.hasPrefix("\"gamma=0.3,beta=1000\",1,gamma=0.3;beta=1000,"))
    }

    @Test(arguments: [
        ("plain", "plain"), ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("two\nlines", "\"two\nlines\""), ("cr\r\nlf", "\"cr\r\nlf\""), (" padded", "\" padded\""), ("", ""),
    ])
    func fieldsAreQuotedAsRFC4180Says(field: String, written: String) {
        #expect(LossesCSV.escape(field) == written)
    }

    @Test func styleColumnsFollowTheHeaderWhateverTheLineHas() {
        var short = line
        short.styles = [6]
        #expect(LossesCSV.row(task: "t", attempt: 1, parameters: [], line: short, styleCount: 3)
            == "t,1,,10,12.5,2.25,6.0,,,0.25,1.235,,,,,,")
        #expect(LossesCSV.row(task: "t", attempt: 1, parameters: [], line: line, styleCount: 1)
            == "t,1,,10,12.5,2.25,6.0,0.25,1.235,,")
    }

    @Test func theWriterAppendsBatchesAndReopensWithoutASecondHeader() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("losses.csv")
        do {
            let writer = try LossesCSVWriter(path: path, styleCount: 2)
            try writer.append(task: "gamma=0.3", attempt: 1, parameters: parameters, lines: [line, line])
        }
        let reopened = try LossesCSVWriter(path: path, styleCount: 2)
        try reopened.append(task: "gamma=0.5", attempt: 1, parameters: [], lines: [line])
        try reopened.synchronize()
        let rows = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 4)
        #expect(rows[0] == LossesCSV.header(styleCount: 2)[...])
        #expect(rows[3].hasPrefix("gamma=0.5,1,,10,"))
    }

    @Test func anExistingFileWithAnotherHeaderIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("losses.csv")
        _ = try LossesCSVWriter(path: path, styleCount: 2)
        let error = #expect(throws: EngineError.self) { try LossesCSVWriter(path: path, styleCount: 3) }
        #expect(error?.message.contains("another header") == true)
        #expect(throws: EngineError.self) { try LossesCSVWriter(path: directory.path("missing/losses.csv"), styleCount: 2) }
    }
}
