<?php
// This file is part of Moodle - https://moodle.org/
//
// Moodle is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.
//
// Moodle is distributed in the hope that it will be useful,
// but WITHOUT ANY WARRANTY; without even the implied warranty of
// MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
// GNU General Public License for more details.
//
// You should have received a copy of the GNU General Public License
// along with Moodle.  If not, see <https://www.gnu.org/licenses/>.

namespace local_lmsbridge\external;

use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_single_structure;
use core_external\external_value;
use core_external\external_warnings;
use local_lmsbridge\local\paper_writer;

/**
 * local_lmsbridge_attach_paper: the exam paper as a File resource, hidden until release.
 *
 * No core web service turns a draft upload into a resource (moodle-ws.md §1.7).
 *
 * @package    local_lmsbridge
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class attach_paper extends external_api {

    /**
     * Parameters (CONTRACT.md, local_lmsbridge_attach_paper).
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'courseid' => new external_value(PARAM_INT, 'Course id'),
            'idnumber' => new external_value(PARAM_TEXT, 'Course module idnumber of the paper, e.g. "lmsbridge:E1:paper"'),
            'section' => new external_value(PARAM_INT, 'Section number'),
            'name' => new external_value(PARAM_TEXT, 'Resource name'),
            'draftitemid' => new external_value(PARAM_INT,
                'Draft item id from webservice/upload.php (the token user\'s draft area)'),
            'opensat' => new external_value(PARAM_INT, 'Release time: a date restriction "from" this time (0 = none)'),
        ]);
    }

    /**
     * Creates or updates the paper.
     *
     * @param int $courseid course id
     * @param string $idnumber course module idnumber
     * @param int $section section number
     * @param string $name resource name
     * @param int $draftitemid draft item id
     * @param int $opensat release time
     * @return array cmid, created, contenthash, warnings
     */
    public static function execute(int $courseid, string $idnumber, int $section, string $name, int $draftitemid,
            int $opensat): array {
        $params = self::validate_parameters(self::execute_parameters(), [
            'courseid' => $courseid,
            'idnumber' => $idnumber,
            'section' => $section,
            'name' => $name,
            'draftitemid' => $draftitemid,
            'opensat' => $opensat,
        ]);
        return paper_writer::attach($params['courseid'], $params['idnumber'], $params['section'], $params['name'],
            $params['draftitemid'], $params['opensat']);
    }

    /**
     * Return structure.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'cmid' => new external_value(PARAM_INT, 'Course module id'),
            'created' => new external_value(PARAM_BOOL, 'True if the resource was created by this call'),
            'contenthash' => new external_value(PARAM_ALPHANUM, 'SHA-1 content hash of the stored paper'),
            'warnings' => new external_warnings(),
        ]);
    }
}
