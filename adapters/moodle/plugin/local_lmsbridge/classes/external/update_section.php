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
use local_lmsbridge\local\section_writer;

/**
 * local_lmsbridge_update_section: an exam area's name, summary, visibility and availability.
 *
 * Core has no web service for a section's summary, availability or (besides renaming through
 * core_update_inplace_editable) its name (moodle-ws.md §1.2).
 *
 * @package    local_lmsbridge
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class update_section extends external_api {

    /**
     * Parameters (CONTRACT.md, local_lmsbridge_update_section).
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'courseid' => new external_value(PARAM_INT, 'Course id'),
            'section' => new external_value(PARAM_INT, 'Section number; a missing number is created at the end'),
            'name' => new external_value(PARAM_TEXT, 'Section name ("" = the course format\'s default name)'),
            'summary' => new external_value(PARAM_RAW, 'Summary HTML', VALUE_DEFAULT, ''),
            'visible' => new external_value(PARAM_INT, '1 shown, 0 hidden', VALUE_DEFAULT, 1),
            'availability' => new external_value(PARAM_RAW, 'Availability JSON; "" clears it', VALUE_DEFAULT, ''),
        ]);
    }

    /**
     * Updates (or creates) the section.
     *
     * @param int $courseid course id
     * @param int $section section number
     * @param string $name section name
     * @param string $summary summary HTML
     * @param int $visible 1 shown, 0 hidden
     * @param string $availability availability JSON
     * @return array sectionid, section, created, warnings
     */
    public static function execute(int $courseid, int $section, string $name, string $summary = '', int $visible = 1,
            string $availability = ''): array {
        $params = self::validate_parameters(self::execute_parameters(), [
            'courseid' => $courseid,
            'section' => $section,
            'name' => $name,
            'summary' => $summary,
            'visible' => $visible,
            'availability' => $availability,
        ]);
        return section_writer::update($params['courseid'], $params['section'], $params['name'], $params['summary'],
            $params['visible'], $params['availability']);
    }

    /**
     * Return structure.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'sectionid' => new external_value(PARAM_INT, 'Section id'),
            'section' => new external_value(PARAM_INT, 'Section number (of the new section when one was created)'),
            'created' => new external_value(PARAM_BOOL, 'True if the section was created by this call'),
            'warnings' => new external_warnings(),
        ]);
    }
}
