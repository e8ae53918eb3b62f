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

namespace local_lmsbridge\local;

use context_course;
use core_external\external_api;
use section_info;
use stdClass;

/**
 * Writes an exam area: a course section's name, summary, visibility and availability (update_section).
 *
 * Core has no web service for a section's summary or availability (moodle-ws.md §1.2). Moodle
 * 4.4+ writes sections through core_courseformat\formatactions::section()->create()/update()
 * (course/format/classes/local/sectionactions.php); course_create_section() and
 * course_update_section() in course/lib.php are the older API, used when formatactions is absent.
 * Both update paths also carry a visibility change over to the section's activities.
 *
 * @package    local_lmsbridge
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class section_writer {

    /**
     * Updates a section, creating it first when the course has no section with that number.
     *
     * A missing number is created the way core's section_add does: one new section at the end of
     * the course, so its number may be lower than the one asked for; the answer gives the real one.
     *
     * @param int $courseid course id
     * @param int $sectionnum section number
     * @param string $name section name; '' = the course format's default name
     * @param string $summary summary HTML
     * @param int $visible 1 shown, 0 hidden
     * @param string $availability availability JSON; '' clears it
     * @return array ['sectionid', 'section', 'created', 'warnings']
     */
    public static function update(int $courseid, int $sectionnum, string $name, string $summary, int $visible,
            string $availability): array {
        global $CFG, $DB;
        require_once($CFG->dirroot . '/course/lib.php');

        $sectionnum = util::check_section($sectionnum);
        $name = util::clean_name($name, true);
        $visible = $visible ? 1 : 0;

        $course = util::get_course($courseid);
        $context = context_course::instance($course->id);
        external_api::validate_context($context);
        require_capability('moodle/course:update', $context);

        $json = availability::normalise($availability);
        $warnings = [];
        if ($json !== null && empty($CFG->enableavailability)) {
            $warnings[] = util::warning('availabilitydisabled', 'warn_availabilitydisabled', null, 'section', $sectionnum);
        }

        $created = false;
        $sectioninfo = get_fast_modinfo($course)->get_section_info($sectionnum);
        if (!$sectioninfo) {
            $record = self::create_at_end($course);
            $sectioninfo = get_fast_modinfo($course)->get_section_info((int)$record->section, MUST_EXIST);
            $created = true;
        }
        if (!empty($sectioninfo->component)) {
            throw util::invalid('err_delegatedsection',
                (object)['section' => $sectioninfo->section, 'component' => $sectioninfo->component]);
        }
        if ((int)$sectioninfo->section === 0 && !$visible) {
            throw util::invalid('err_section0hidden');
        }
        if ((bool)$sectioninfo->visible !== (bool)$visible) {
            // Core's section_hide/section_show (course/format/classes/stateactions.php) require it too.
            require_capability('moodle/course:sectionvisibility', $context);
        }

        self::write($course, $sectioninfo, [
            'name' => ($name === '') ? null : $name,
            'summary' => $summary,
            'summaryformat' => FORMAT_HTML,
            'visible' => $visible,
            'availability' => $json,
        ]);

        return [
            'sectionid' => (int)$sectioninfo->id,
            'section' => (int)$sectioninfo->section,
            'created' => $created,
            'warnings' => $warnings,
        ];
    }

    /**
     * Adds one section at the end of the course.
     *
     * @param stdClass $course course record
     * @return stdClass the new course_sections record
     */
    protected static function create_at_end(stdClass $course): stdClass {
        if (class_exists(\core_courseformat\formatactions::class)) {
            return \core_courseformat\formatactions::section($course)->create();
        }
        return course_create_section($course);
    }

    /**
     * Writes section fields through the course format's section actions.
     *
     * @param stdClass $course course record
     * @param section_info $sectioninfo the section
     * @param array $fields course_sections fields
     */
    protected static function write(stdClass $course, section_info $sectioninfo, array $fields): void {
        global $DB;
        if (class_exists(\core_courseformat\formatactions::class)) {
            $actions = \core_courseformat\formatactions::section($course);
            if (method_exists($actions, 'update')) {
                $actions->update($sectioninfo, $fields);
                return;
            }
        }
        $record = $DB->get_record('course_sections', ['id' => $sectioninfo->id], '*', MUST_EXIST);
        course_update_section($course, $record, $fields);
    }
}
