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
use externallib_advanced_testcase;

defined('MOODLE_INTERNAL') || die();

global $CFG;
require_once($CFG->dirroot . '/webservice/tests/helpers.php');

/**
 * Tests of the local_lmsbridge web-service functions against a real Moodle (PHPUnit).
 *
 * Run from a Moodle checkout with the plugin in local/lmsbridge:
 * vendor/bin/phpunit --testsuite local_lmsbridge_testsuite (after admin/tool/phpunit/cli/init.php).
 *
 * @package    local_lmsbridge
 * @category   test
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_lmsbridge\external\upsert_activity
 * @covers     \local_lmsbridge\external\get_activities
 * @covers     \local_lmsbridge\external\update_section
 * @covers     \local_lmsbridge\external\set_availability
 * @covers     \local_lmsbridge\external\attach_paper
 * @covers     \local_lmsbridge\external\save_assign_overrides
 * @covers     \local_lmsbridge\external\get_assign_overrides
 * @covers     \local_lmsbridge\external\delete_assign_overrides
 */
final class functions_test extends externallib_advanced_testcase {

    /**
     * Calls upsert_activity and cleans the answer like the web-service server does.
     *
     * @param int $courseid course id
     * @param string $idnumber idnumber
     * @param string $modname assign or quiz
     * @param array $settings settings
     * @param int $section section number
     * @param int $visible visibility
     * @return array
     */
    protected function upsert(int $courseid, string $idnumber, string $modname, array $settings, int $section = 1,
            int $visible = 1): array {
        $result = upsert_activity::execute($courseid, $idnumber, $modname, $section, 'Exam ' . $idnumber,
            '<p>Instructions</p>', $visible, $settings);
        return external_api::clean_returnvalue(upsert_activity::execute_returns(), $result);
    }

    /**
     * A retried upsert updates the same quiz; settings and review options land in the quiz record.
     */
    public function test_upsert_quiz_is_idempotent(): void {
        global $DB;
        $this->resetAfterTest();
        $this->setAdminUser();
        $course = $this->getDataGenerator()->create_course(['numsections' => 2]);

        $settings = ['timeopen' => 1800000000, 'timeclose' => 1800007200, 'timelimit' => 3600, 'attempts' => 1,
            'quizpassword' => 'secret', 'hideresultsuntilclose' => 1];
        $first = $this->upsert($course->id, 'lmsbridge:E1', 'quiz', $settings);
        $this->assertTrue($first['created']);

        $settings['timeclose'] = 1800009000;
        $second = $this->upsert($course->id, 'lmsbridge:E1', 'quiz', $settings, 2);
        $this->assertFalse($second['created']);
        $this->assertEquals($first['cmid'], $second['cmid']);
        $this->assertEquals(1, $DB->count_records('quiz', ['course' => $course->id]));

        $quiz = $DB->get_record('quiz', ['id' => $second['instance']]);
        $this->assertEquals(1800009000, $quiz->timeclose);
        $this->assertEquals(3600, $quiz->timelimit);
        $this->assertEquals('secret', $quiz->password);

        $read = external_api::clean_returnvalue(get_activities::execute_returns(), get_activities::execute($course->id));
        $this->assertCount(1, $read['activities']);
        $activity = $read['activities'][0];
        $this->assertEquals(2, $activity['section']);
        $this->assertEquals(1, $activity['settings']['hideresultsuntilclose']);
        $this->assertEquals(1800009000, $activity['settings']['timeclose']);
    }

    /**
     * An update keeps the assignment's submission plugins switched on.
     */
    public function test_upsert_assign_keeps_submission_plugins(): void {
        global $DB;
        $this->resetAfterTest();
        $this->setAdminUser();
        $course = $this->getDataGenerator()->create_course(['numsections' => 1]);

        $settings = ['allowsubmissionsfromdate' => 1800000000, 'duedate' => 1800003600, 'cutoffdate' => 1800007200];
        $first = $this->upsert($course->id, 'lmsbridge:E2', 'assign', $settings);
        $this->upsert($course->id, 'lmsbridge:E2', 'assign', ['duedate' => 1800005400]);

        $assign = $DB->get_record('assign', ['id' => $first['instance']]);
        $this->assertEquals(1800005400, $assign->duedate);
        $this->assertEquals(1800007200, $assign->cutoffdate);
        $enabled = $DB->get_field('assign_plugin_config', 'value', ['assignment' => $assign->id,
            'subtype' => 'assignsubmission', 'plugin' => 'file', 'name' => 'enabled']);
        $this->assertEquals(1, $enabled);
    }

    /**
     * The contract's validation errors.
     */
    public function test_upsert_validation(): void {
        $this->resetAfterTest();
        $this->setAdminUser();
        $course = $this->getDataGenerator()->create_course(['numsections' => 1]);
        $this->upsert($course->id, 'lmsbridge:E3', 'quiz', []);

        try {
            $this->upsert($course->id, 'lmsbridge:E3', 'assign', []);
            $this->fail('idnumber of another module type accepted');
        } catch (\invalid_parameter_exception $e) {
            $this->assertEquals('idnumber lmsbridge:E3 belongs to a quiz', $e->debuginfo);
        }
        try {
            $this->upsert($course->id, 'lmsbridge:E4', 'quiz', ['timeopen' => 200, 'timeclose' => 100]);
            $this->fail('close before open accepted');
        } catch (\invalid_parameter_exception $e) {
            $this->assertEquals('timeclose before timeopen', $e->debuginfo);
        }
        $this->expectException(\invalid_parameter_exception::class);
        $this->upsert($course->id, 'lmsbridge:E5', 'forum', []);
    }

    /**
     * A missing section is added at the end; its availability is stored and read back.
     */
    public function test_update_section(): void {
        $this->resetAfterTest();
        $this->setAdminUser();
        set_config('enableavailability', 1);
        $course = $this->getDataGenerator()->create_course(['numsections' => 1]);
        $json = '{"op":"&","c":[{"type":"date","d":">=","t":1800000000}],"showc":[true]}';

        $result = update_section::execute($course->id, 5, 'Exam area', '<p>Statement</p>', 0, $json);
        $result = external_api::clean_returnvalue(update_section::execute_returns(), $result);
        $this->assertTrue($result['created']);
        $this->assertEquals(2, $result['section']);

        $read = external_api::clean_returnvalue(get_activities::execute_returns(), get_activities::execute($course->id));
        $section = $read['sections'][2];
        $this->assertEquals('Exam area', $section['name']);
        $this->assertEquals(0, $section['visible']);
        $this->assertEquals($json, $section['availability']);

        $this->expectException(\invalid_parameter_exception::class);
        update_section::execute($course->id, 2, 'Exam area', '', 1, '{"op":"&","c":[{"type":"nosuch"}],"showc":[true]}');
    }

    /**
     * set_availability sets, validates and clears.
     */
    public function test_set_availability(): void {
        global $DB;
        $this->resetAfterTest();
        $this->setAdminUser();
        set_config('enableavailability', 1);
        $course = $this->getDataGenerator()->create_course(['numsections' => 1]);
        $cmid = $this->upsert($course->id, 'lmsbridge:E6', 'quiz', [])['cmid'];
        $json = '{"op":"&","c":[{"type":"date","d":"<","t":1800000000}],"showc":[false]}';

        set_availability::execute($cmid, $json);
        $this->assertEquals($json, $DB->get_field('course_modules', 'availability', ['id' => $cmid]));
        set_availability::execute($cmid, '');
        $this->assertNull($DB->get_field('course_modules', 'availability', ['id' => $cmid]));

        $this->expectException(\invalid_parameter_exception::class);
        set_availability::execute($cmid, 'not json');
    }

    /**
     * The paper is created restricted, and a second upload of the same content replaces nothing.
     */
    public function test_attach_paper(): void {
        global $DB;
        $this->resetAfterTest();
        $this->setAdminUser();
        set_config('enableavailability', 1);
        $course = $this->getDataGenerator()->create_course(['numsections' => 1]);

        $draft = function(string $content): int {
            global $USER;
            $itemid = file_get_unused_draft_itemid();
            get_file_storage()->create_file_from_string([
                'contextid' => \context_user::instance($USER->id)->id, 'component' => 'user', 'filearea' => 'draft',
                'itemid' => $itemid, 'filepath' => '/', 'filename' => 'paper.pdf'], $content);
            return $itemid;
        };

        $first = attach_paper::execute($course->id, 'lmsbridge:E1:paper', 1, 'Paper', $draft('v1'), 1800000000);
        $first = external_api::clean_returnvalue(attach_paper::execute_returns(), $first);
        $this->assertTrue($first['created']);
        $this->assertEquals(sha1('v1'), $first['contenthash']);
        $this->assertEquals('{"op":"&","c":[{"type":"date","d":">=","t":1800000000}],"showc":[true]}',
            $DB->get_field('course_modules', 'availability', ['id' => $first['cmid']]));
        $revision = $DB->get_field('resource', 'revision', ['id' => $DB->get_field('course_modules', 'instance',
            ['id' => $first['cmid']])]);

        $again = attach_paper::execute($course->id, 'lmsbridge:E1:paper', 1, 'Paper', $draft('v1'), 1800000000);
        $this->assertFalse($again['created']);
        $this->assertEquals($first['cmid'], $again['cmid']);
        $this->assertEquals($revision, $DB->get_field('resource', 'revision', ['id' => $DB->get_field('course_modules',
            'instance', ['id' => $first['cmid']])]));

        $changed = attach_paper::execute($course->id, 'lmsbridge:E1:paper', 1, 'Paper', $draft('v2'), 1800000000);
        $this->assertEquals(sha1('v2'), $changed['contenthash']);

        try {
            attach_paper::execute($course->id, 'lmsbridge:E1:paper', 1, 'Paper', file_get_unused_draft_itemid(), 0);
            $this->fail('empty draft area accepted');
        } catch (\invalid_parameter_exception $e) {
            $this->assertStringStartsWith('draft area ', $e->debuginfo);
        }
    }

    /**
     * Assignment overrides follow the quiz override manager's semantics.
     */
    public function test_assign_overrides(): void {
        $this->resetAfterTest();
        $this->setAdminUser();
        $course = $this->getDataGenerator()->create_course(['numsections' => 1]);
        $student = $this->getDataGenerator()->create_and_enrol($course, 'student');
        $assignid = $this->upsert($course->id, 'lmsbridge:E7', 'assign',
            ['duedate' => 1800003600, 'cutoffdate' => 1800007200])['instance'];

        $saved = save_assign_overrides::execute(['assignid' => $assignid, 'overrides' => [
            ['userid' => $student->id, 'duedate' => 1800005400, 'cutoffdate' => 1800009000]]]);
        $saved = external_api::clean_returnvalue(save_assign_overrides::execute_returns(), $saved);
        $this->assertCount(1, $saved['ids']);

        try {
            save_assign_overrides::execute(['assignid' => $assignid, 'overrides' => [
                ['userid' => $student->id, 'duedate' => 1800006000, 'cutoffdate' => 1800009000]]]);
            $this->fail('second override for the same user accepted');
        } catch (\invalid_parameter_exception $e) {
            $this->assertEquals('Multiple overrides cannot be made for the same user/group.', $e->debuginfo);
        }

        // An update replaces the whole override: the cut-off left out becomes null.
        save_assign_overrides::execute(['assignid' => $assignid, 'overrides' => [
            ['id' => $saved['ids'][0], 'userid' => $student->id, 'duedate' => 1800006000]]]);
        $list = external_api::clean_returnvalue(get_assign_overrides::execute_returns(),
            get_assign_overrides::execute($assignid));
        $this->assertEquals(1800006000, $list['overrides'][0]['duedate']);
        $this->assertNull($list['overrides'][0]['cutoffdate']);

        try {
            save_assign_overrides::execute(['assignid' => $assignid, 'overrides' => [
                ['id' => $saved['ids'][0], 'userid' => $student->id, 'duedate' => 1800003600]]]);
            $this->fail('override equal to the assignment accepted');
        } catch (\invalid_parameter_exception $e) {
            $this->assertEquals('You must override at least one of the assignment settings.', $e->debuginfo);
        }

        try {
            delete_assign_overrides::execute(['assignid' => $assignid, 'ids' => [$saved['ids'][0], 999999]]);
            $this->fail('unknown override id accepted');
        } catch (\invalid_parameter_exception $e) {
            $this->assertStringContainsString('999999', $e->debuginfo);
        }
        $deleted = delete_assign_overrides::execute(['assignid' => $assignid, 'ids' => [$saved['ids'][0]]]);
        $this->assertEquals([$saved['ids'][0]], $deleted['ids']);
        $this->assertCount(0, get_assign_overrides::execute($assignid)['overrides']);
    }
}
