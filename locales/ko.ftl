lang-name = 한국어
number-group-separator = ,
date = { $year }년 { $month }월 { $day }일
month-1 = 1월
month-2 = 2월
month-3 = 3월
month-4 = 4월
month-5 = 5월
month-6 = 6월
month-7 = 7월
month-8 = 8월
month-9 = 9월
month-10 = 10월
month-11 = 11월
month-12 = 12월

## Workspace texts in the console: one row per offered language
texts-title = 제목
texts-wording = 동의 문구
texts-description = 설명
texts-label = 라벨
texts-default-hint = 워크스페이스의 기본 언어입니다. 반드시 입력해야 합니다.
texts-optional-hint = 선택 사항입니다.
texts-untranslated-hint = 아직 번역되지 않았습니다. 이 언어로 보는 사람에게는 { $default } 문구가 표시됩니다.
texts-choices-hint = 한 줄에 선택지 하나: 값|라벨. 라벨은 이 순서로 적습니다: { $order } (비워 두면 번역되지 않은 것으로 봅니다).
texts-email-label = 이메일 주소

## Policy pages: the wording in each published language
policy-shown-hash = 이 화면에 표시된 문구의 지문 (SHA-256)
policy-published-in = 게시된 언어

## Retention periods ("1 year 6 months")
retention-years = { $count }년
retention-months = { $count }개월
retention-days = { $count }일
retention-separator = { " " }

## The workspace's languages (console)
nav-languages = 언어
languages-title = 언어
languages-intro = 양식, 내 정보 관리 페이지, 메일을 제공할 언어입니다. 방문자에게는 브라우저가 요청하는 언어(또는 직접 고른 언어)로 보여 주며, 번역되지 않은 문구는 기본 언어로 표시합니다.
languages-col-language = 언어
languages-col-tag = 태그
languages-col-default = 기본
languages-make-default = 기본 언어로 지정
languages-remove = 제공 중지
languages-add = 이 언어 제공
languages-add-label = 언어 추가
languages-untranslated-title = 아직 번역되지 않은 문구
languages-untranslated-none = 모든 문구가 제공 중인 모든 언어로 작성되어 있습니다.
languages-col-text = 문구
languages-col-missing = 빠진 언어
languages-saved = 언어 설정을 저장했습니다.
languages-purpose-title = 목적 { $purpose }: 제목
languages-purpose-wording = 목적 { $purpose }: 동의 문구
languages-form-text = 양식 { $form }: { $place }
