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
use local_lmsbridge\local\activity_writer;

/**
 * local_lmsbridge_upsert_activity: create or update an assign or quiz found by its idnumber.
 *
 * No core web service creates an assign or quiz with its settings or writes their dates
 * (moodle-ws.md §1.3, §1.4); this one is built on create_module() / update_moduleinfo().
 *
 * @package    local_lmsbridge
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class upsert_activity extends external_api {

    /**
     * Parameters (CONTRACT.md, local_lmsbridge_upsert_activity).
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'courseid' => new external_value(PARAM_INT, 'Course id'),
            'idnumber' => new external_value(PARAM_TEXT, 'Course module idnumber, lms_bridge\'s stable tag (max 100 characters)'),
            'modname' => new external_value(PARAM_TEXT, 'assign or quiz'),
            'section' => new external_value(PARAM_INT,
                'Section number the activity goes in (created if missing); on update it is moved there'),
            'name' => new external_value(PARAM_TEXT, 'Activity name'),
            'intro' => new external_value(PARAM_RAW, 'Description, HTML', VALUE_DEFAULT, ''),
            'visible' => new external_value(PARAM_INT, '1 shown, 0 hidden', VALUE_DEFAULT, 1),
            'settings' => new external_single_structure([
                'allowsubmissionsfromdate' => new external_value(PARAM_INT, 'assign: submissions open (0 = not set)',
                    VALUE_OPTIONAL),
                'duedate' => new external_value(PARAM_INT, 'assign: due date (0 = not set)', VALUE_OPTIONAL),
                'cutoffdate' => new external_value(PARAM_INT, 'assign: cut-off date (0 = not set)', VALUE_OPTIONAL),
                'timeopen' => new external_value(PARAM_INT, 'quiz: opens (0 = not set)', VALUE_OPTIONAL),
                'timeclose' => new external_value(PARAM_INT, 'quiz: closes (0 = not set)', VALUE_OPTIONAL),
                'timelimit' => new external_value(PARAM_INT, 'assign and quiz: time limit in seconds (0 = none)', VALUE_OPTIONAL),
                'attempts' => new external_value(PARAM_INT, 'quiz: attempts allowed (0 = unlimited)', VALUE_OPTIONAL),
                'quizpassword' => new external_value(PARAM_RAW, 'quiz: password (empty = none)', VALUE_OPTIONAL),
                'shuffleanswers' => new external_value(PARAM_INT, 'quiz: shuffle within questions (0/1)', VALUE_OPTIONAL),
                'hideresultsuntilclose' => new external_value(PARAM_INT,
                    'quiz: 1 = review options only "after the quiz is closed"', VALUE_OPTIONAL),
            ], 'Exam settings of the module type; absent = leave as is on update, default on create',
                VALUE_DEFAULT, []),
        ]);
    }

    /**
     * Creates or updates the activity.
     *
     * @param int $courseid course id
     * @param string $idnumber course module idnumber
     * @param string $modname assign or quiz
     * @param int $section section number
     * @param string $name activity name
     * @param string $intro description HTML
     * @param int $visible 1 shown, 0 hidden
     * @param array $settings exam settings
     * @return array cmid, instance, created, warnings
     */
    public static function execute(int $courseid, string $idnumber, string $modname, int $section, string $name,
            string $intro = '', int $visible = 1, array $settings = []): array {
        $params = self::validate_parameters(self::execute_parameters(), [
            'courseid' => $courseid,
            'idnumber' => $idnumber,
            'modname' => $modname,
            'section' => $section,
            'name' => $name,
            'intro' => $intro,
            'visible' => $visible,
            'settings' => $settings,
        ]);
        return activity_writer::upsert($params['courseid'], $params['idnumber'], $params['modname'],
            $params['section'], $params['name'], $params['intro'], $params['visible'], $params['settings']);
    }

    /**
     * Return structure.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'cmid' => new external_value(PARAM_INT, 'Course module id'),
            'instance' => new external_value(PARAM_INT, 'assign or quiz instance id'),
            'created' => new external_value(PARAM_BOOL, 'True if the activity was created by this call'),
            'warnings' => new external_warnings(),
        ]);
    }
}
