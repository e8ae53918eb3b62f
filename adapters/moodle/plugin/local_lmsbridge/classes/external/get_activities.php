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
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use core_external\external_warnings;
use local_lmsbridge\local\activity_reader;

/**
 * local_lmsbridge_get_activities: everything lms_bridge created in a course, in one call.
 *
 * Returns the stored instance settings (core's reads give the caller's effective values) and the
 * availability of sections, which no core web service returns (moodle-ws.md §1.1, §6.3).
 *
 * @package    local_lmsbridge
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_activities extends external_api {

    /**
     * Parameters (CONTRACT.md, local_lmsbridge_get_activities).
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'courseid' => new external_value(PARAM_INT, 'Course id'),
            'idnumberprefix' => new external_value(PARAM_TEXT, 'Only course modules whose idnumber starts with this',
                VALUE_DEFAULT, 'lmsbridge:'),
        ]);
    }

    /**
     * Reads the activities and sections.
     *
     * @param int $courseid course id
     * @param string $idnumberprefix idnumber prefix
     * @return array activities, sections, warnings
     */
    public static function execute(int $courseid, string $idnumberprefix = 'lmsbridge:'): array {
        $params = self::validate_parameters(self::execute_parameters(), [
            'courseid' => $courseid,
            'idnumberprefix' => $idnumberprefix,
        ]);
        return activity_reader::get($params['courseid'], $params['idnumberprefix']);
    }

    /**
     * Return structure.
     *
     * The settings of an activity are those of its type (all of them): the assign keys for an
     * assign, the quiz keys for a quiz, none for another module (e.g. the exam paper's resource).
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'activities' => new external_multiple_structure(new external_single_structure([
                'cmid' => new external_value(PARAM_INT, 'Course module id'),
                'instance' => new external_value(PARAM_INT, 'Instance id'),
                'modname' => new external_value(PARAM_PLUGIN, 'Module type'),
                'idnumber' => new external_value(PARAM_RAW, 'Course module idnumber'),
                'name' => new external_value(PARAM_RAW, 'Activity name'),
                'section' => new external_value(PARAM_INT, 'Section number'),
                'sectionid' => new external_value(PARAM_INT, 'Section id'),
                'visible' => new external_value(PARAM_INT, '1 shown, 0 hidden'),
                'settings' => new external_single_structure([
                    'allowsubmissionsfromdate' => new external_value(PARAM_INT, 'assign: submissions open', VALUE_OPTIONAL),
                    'duedate' => new external_value(PARAM_INT, 'assign: due date', VALUE_OPTIONAL),
                    'cutoffdate' => new external_value(PARAM_INT, 'assign: cut-off date', VALUE_OPTIONAL),
                    'timeopen' => new external_value(PARAM_INT, 'quiz: opens', VALUE_OPTIONAL),
                    'timeclose' => new external_value(PARAM_INT, 'quiz: closes', VALUE_OPTIONAL),
                    'timelimit' => new external_value(PARAM_INT, 'assign and quiz: time limit in seconds', VALUE_OPTIONAL),
                    'attempts' => new external_value(PARAM_INT, 'quiz: attempts allowed (0 = unlimited)', VALUE_OPTIONAL),
                    'quizpassword' => new external_value(PARAM_RAW, 'quiz: password', VALUE_OPTIONAL),
                    'shuffleanswers' => new external_value(PARAM_INT, 'quiz: shuffle within questions', VALUE_OPTIONAL),
                    'hideresultsuntilclose' => new external_value(PARAM_INT,
                        'quiz: 1 if the review options show nothing before the quiz closes', VALUE_OPTIONAL),
                ], 'Stored settings of the activity'),
                'availability' => new external_value(PARAM_RAW, 'Availability JSON, or null', VALUE_REQUIRED, null,
                    NULL_ALLOWED),
            ]), 'Course modules whose idnumber starts with the prefix'),
            'sections' => new external_multiple_structure(new external_single_structure([
                'id' => new external_value(PARAM_INT, 'Section id'),
                'section' => new external_value(PARAM_INT, 'Section number'),
                'name' => new external_value(PARAM_RAW, 'Section name as stored ("" = default name)'),
                'summary' => new external_value(PARAM_RAW, 'Summary HTML as stored'),
                'visible' => new external_value(PARAM_INT, '1 shown, 0 hidden'),
                'availability' => new external_value(PARAM_RAW, 'Availability JSON, or null', VALUE_REQUIRED, null,
                    NULL_ALLOWED),
            ]), 'Every section of the course'),
            'warnings' => new external_warnings(),
        ]);
    }
}
